// When a figure of this run may be held against the paper's, and what a disagreement
// means (docs/definitions.md §R.2, the audit's status rules).
//
// Not comparable: every paper figure in paper-figures.json names, in `depends`, the
// settings it was printed for: `data` (which text), `model.H`, the training length
// (`train.epochs`, `train.bptt`; only for a model trained here) and any stage param
// (`decomposition.position`, `skipgrams.maxOffset`, …). A run whose setting differs gets
// "not comparable: <key> = <ours>, the paper's figure is for <paper's>": neither ✔ nor ✘,
// and not counted. A stage param that is not overridden is at its schema default, and a
// test holds every declared paper value equal to that default.
//
// Near zero: a figure the paper prints as 0 or ~0 has no relative precision, so it
// agrees (✔) when |ours| ≤ NEAR_ZERO_FRACTION × the largest |figure| the paper prints in
// the same column (`column` in paper-figures.json), else ✘. One rule, everywhere.
//
// ✘ cases: with the paper's-weights column, a ✘ on our training says whether the paper's
// own weights agree (so our training differs) or disagree too (the printed figure does
// not come from the released model).

import { ENWIK9_PREFIX_SHA256 } from '../data/known.ts';
import type { PaperFigure, PaperFigures, Status } from './types.ts';

/** What a run was computed on: the parts of a report that settle comparability. */
export interface RunSetting {
  model: { source?: string; H?: number; train?: Record<string, unknown> | null };
  data: { bytes?: number; sha256?: string };
  /** Params that differ from their schema defaults, `{ stage: { param: value } }`. */
  overrides?: Record<string, Record<string, unknown>>;
}

/** |ours| ≤ this fraction of the column's largest printed |figure| counts as "near zero". */
export const NEAR_ZERO_FRACTION = 0.1;

export const CASE_REFERENCE_TOO = "the paper's own weights disagree too (the printed figure is not reproducible from the released model)";
export const CASE_TRAINING = "the paper's weights agree, ours differ (training)";
export const CASE_REFERENCE = "the paper's own weights disagree (the printed figure is not reproducible from the released model)";
export const CASE_REFERENCE_MISSING = "the paper's weights give no comparable figure here, so training and the printed figure cannot be told apart";
export const CASE_NO_REFERENCE = "no paper's-weights column in this report, so training and the printed figure cannot be told apart";

/** How the data of a run is named: `enwik9:<N>` when it is enwik9's first N bytes (a prefix the project knows by hash). */
export function dataName(d: RunSetting['data']): string {
  const n = d.bytes;
  if (n !== undefined && d.sha256 && ENWIK9_PREFIX_SHA256[n] === d.sha256) return `enwik9:${n}`;
  return `${n ?? '?'} bytes with sha256 ${String(d.sha256 ?? '?').slice(0, 12)}…`;
}

/** Marks a stage param left at its schema default (which the paper's value equals). */
const AT_DEFAULT = Symbol('default');

/**
 * The run's value of a dependency key; undefined when the key does not apply (training
 * settings of imported weights), AT_DEFAULT for a param nobody changed.
 */
export function settingValue(key: string, s: RunSetting): unknown {
  if (key === 'data') return dataName(s.data);
  if (key === 'model.H') return s.model.H;
  const dot = key.indexOf('.');
  if (dot < 1) throw new Error(`paper-figures.json: dependency "${key}" is not "data", "model.H" or "<stage>.<param>"`);
  const stage = key.slice(0, dot);
  const param = key.slice(dot + 1);
  if (stage === 'train') {
    if (s.model.source !== undefined && s.model.source !== 'train') return undefined;
    const recorded = s.model.train?.[param];
    if (recorded !== undefined && recorded !== null) return recorded;
  }
  const o = s.overrides?.[stage];
  if (o && Object.prototype.hasOwnProperty.call(o, param)) return o[param];
  return AT_DEFAULT;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The settings where this run differs from the paper's figure, each as
 * "<key> = <ours>, the paper's figure is for <paper's>"; empty when comparable.
 */
export function differences(fig: PaperFigure, s: RunSetting | null | undefined): string[] {
  if (!s || !fig.depends) return [];
  const out: string[] = [];
  for (const [key, paper] of Object.entries(fig.depends)) {
    const ours = settingValue(key, s);
    if (ours === undefined || ours === AT_DEFAULT || same(ours, paper)) continue;
    out.push(`${key} = ${show(ours)}, the paper's figure is for ${show(paper)}`);
  }
  return out;
}

/** "not comparable: …" from differences(). */
export const notComparableText = (diffs: string[]) => `not comparable: ${diffs.join('; ')}`;

/** The scale of a figure's column: the largest |figure| the paper prints in it (0 when none). */
export function columnScale(fig: PaperFigure, figures: PaperFigures): number {
  if (!fig.column) return 0;
  let m = 0;
  for (const f of Object.values(figures)) {
    if (f.column !== fig.column) continue;
    const v = Math.abs(Number(f.value));
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

/** Does the paper print this figure as 0 (or ~0)? */
export const printedZero = (fig: PaperFigure) => Number.isFinite(Number(fig.value)) && Number(fig.value) === 0 && fig.value.trim() !== '';

/** The near-zero status of `ours` against a figure the paper prints as 0 or ~0. */
export function nearZeroStatus(ours: number, fig: PaperFigure, figures: PaperFigures): Status {
  const scale = columnScale(fig, figures);
  if (!(scale > 0)) throw new Error(`paper-figures.json: a figure printed as ${fig.value} needs a "column" with a nonzero figure to scale "near zero" by`);
  return Math.abs(ours) <= NEAR_ZERO_FRACTION * scale ? '✔' : '✘';
}

/** Which of the ✘ cases a ✘ on our training is, from the paper's weights' status on the same figure. */
export function trainingCase(referenceStatus: Status | null): string {
  if (referenceStatus === null) return CASE_NO_REFERENCE;
  if (referenceStatus === '✘') return CASE_REFERENCE_TOO;
  if (referenceStatus === '✔' || referenceStatus === '≈') return CASE_TRAINING;
  return CASE_REFERENCE_MISSING;
}
