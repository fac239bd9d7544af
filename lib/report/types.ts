// The report's data model (docs/definitions.md §R). The report is data first: every table is built as
// this JSON, written to report.json, and the Markdown is rendered from it.
//
// Analysis code never holds a paper figure. A cell that compares with the paper names a
// key of `lib/report/paper-figures.json` (`ref`); the report stage looks the figure up
// and computes the status.

/** A number we computed, to be shown beside the paper's figure `ref` (if any). */
export interface Cmp {
  ours: number | null;
  /** Key into paper-figures.json; omitted when the paper has no such figure. */
  ref?: string;
  /** Digits to print ours with (default: the paper's printed precision + 1, else 4). */
  digits?: number;
}

export type Cell = string | number | null | Cmp;

export interface Column {
  key: string;
  label: string;
}

export interface TableSpec {
  id: string;
  title: string;
  /** Paper section, e.g. "§3.3". */
  section: string;
  /** Which positions the figures average over, e.g. "t = 27..1022 (996 positions)". */
  positions: string;
  /** Offset convention when the table has offsets: "state offsets" | "skip-gram offsets". */
  convention?: string;
  columns: Column[];
  rows: Record<string, Cell>[];
  /** Short notes shown under the table (disagreements, method). */
  notes?: string[];
  /** The stage whose output the table shows, and its short cache key. */
  provenance?: { stage: string; key: string };
}

export interface MetricSpec {
  id: string;
  value: number | null;
  section: string;
  positions: string;
  /** Key into paper-figures.json when it is not the id (e.g. decomposition.pos<t>.* against the paper's position 29). */
  ref?: string;
  /** An older id kept for one release: the metric it stands for (same value). Not rendered, not audited. */
  aliasOf?: string;
}

/** What one section builder contributes to the report. */
export interface SectionPart {
  tables: TableSpec[];
  metrics: MetricSpec[];
}

export function isCmp(c: Cell): c is Cmp {
  return typeof c === 'object' && c !== null && 'ours' in c;
}

/** "t = a..b (n positions)": how every table states the positions it averages over. */
export function span(from: number, to: number): string {
  return `t = ${from}..${to} (${to - from + 1} positions)`;
}

// The paper's printed figures (paper-figures.json) and a comparison's status: shared by
// compare.ts and comparable.ts.
export interface PaperFigure {
  value: string;
  section: string;
  quote: string;
  approx?: boolean;
  /** "config": a setting the paper states (seed, epochs), not a result; left out of the audit. */
  kind?: 'config';
  /**
   * The setting the figure was printed for: `data` ("enwik9:1024"), `model.H`,
   * `train.<param>` (a model trained here), `<stage>.<param>`, each with the paper's value.
   */
  depends?: Record<string, string | number | boolean | number[]>;
  /** The column or group the figure belongs to; its largest |figure| scales "near zero". */
  column?: string;
  /** Older ids of this figure (read from reports written before a rename). */
  aliases?: string[];
}
export type PaperFigures = Record<string, PaperFigure>;

export type Status = '✔' | '≈' | '✘' | 'n/c' | '';
