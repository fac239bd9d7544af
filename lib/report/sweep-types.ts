// The sweep document's types (reports/aggregate-…/sweep.json): read by sweep.ts, which
// builds it, and by sweep-plots.ts, which draws it.

import type { Aggregate } from './aggregate.ts';
import type { Spread } from './audit.ts';

export interface SweepAxis {
  /** stage.param */
  param: string;
  values: unknown[];
}

export interface SweepCell {
  spread: Spread | null;
  /** Per seed, in the row's seed order (null: not computed). */
  values: (number | null)[];
}

export interface SweepRow {
  values: Record<string, unknown>;
  seeds: (number | null)[];
  reports: (string | null)[];
  epochs: (number | null)[];
  /** Per seed: did the model converge (docs/definitions.md §6.4)? null: no held-out curve. */
  converged: (boolean | null)[];
  /** Per seed: the held-out curve of its training (epoch 0 = the init), null without one. */
  heldoutCurves?: ({ epoch: number; heldoutBpc: number }[] | null)[];
  /** Q3: the tables of this point's reports that average over a sample of positions, and which. */
  sampled?: { title: string; positions: string }[];
  metrics: Record<string, SweepCell>;
  /** The usual aggregate over this point's seeds (mean ± sd [min, max] of every metric and table cell). */
  aggregate: Omit<Aggregate, 'audit'>;
}

export interface SweepJson {
  label: string;
  kind: 'sweep';
  axes: SweepAxis[];
  seeds: (number | null)[];
  targets: string[];
  /** Params set for every point (stage.param=value). */
  fixed: string[];
  metrics: { id: string; label: string; group: string }[];
  rows: SweepRow[];
  summary: string[];
  /** Set by report --q3: the training-length rule in words and the held-out block. */
  q3?: Q3Info;
}

export interface Q3Info {
  rule: string;
}
