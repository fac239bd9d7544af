// The report's plots (issue 7): vega-lite specs built from report data, rendered to SVG by
// vega's string renderer in Node. Nothing here draws SVG by hand.
//   - training curves (§2): train bpc per epoch, one line per run/seed, eval bpc as points;
//   - Table 3 (§5.3, eq. 7): signed and unsigned influence against state offset d = 0..49;
//   - the §3.2 |z| histogram (bins of |z| over all neuron-steps, plus an overflow bin);
//   - Table 1 (§3.3): neurons per best offset pair;
//   - Table 2 (§5.2): PS count per hidden unit.
//
// The spec builders are pure and deterministic: same data -> same spec -> same SVG bytes
// (renderSvg renumbers vega's process-global clip/gradient ids per document). Values that
// cannot be drawn (NaN, ±Infinity, and on the log-scale curves also bpc <= 0) are dropped
// and the count dropped is said in the plot's subtitle, so a gap is never silent. Empty
// input gives a chart with its title and "no data" instead of a throw.
//
// vega and vega-lite are loaded by `renderSvg` on first use, never at module load: the
// CLI's no-op start-up must not pay ~250 ms for them.

import type { TopLevelSpec } from 'vega-lite';

export interface CurveSeries { label: string; epoch: number[]; trainBpc: number[]; evalEpoch?: number[]; evalBpc?: number[] }
export interface InfluenceRow { d: number; signed: number; unsigned: number }
/** One |z| bin [lo, hi); hi null = the overflow bin [lo, ∞). */
export interface HistogramBin { lo: number; hi: number | null; count: number }
export interface PairCount { pair: string; neurons: number; meanR2: number }
export interface UnitCount { unit: number; count: number }

type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 560;
const HEIGHT = 280;
/** Points kept per training curve: 2 per bucket (min and max), about one per pixel. */
const MAX_CURVE_POINTS = WIDTH;

// ---------------------------------------------------------------- helpers

const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);

/** What every chart shares: schema, title (with notes as subtitle) and size. */
function frame(text: string, notes: string[]) {
  return { $schema: SCHEMA, title: title(text, notes), width: WIDTH, height: HEIGHT };
}

function title(text: string, notes: string[]): Spec {
  return notes.length ? { text, subtitle: notes.join('; ') } : { text };
}

const dropNote = (n: number, what: string) => (n > 0 ? [`${n} ${what} dropped`] : []);

/** A chart that says "no data" under its title; every builder returns it for empty input. */
function emptySpec(text: string, notes: string[] = []): Spec {
  return {
    ...frame(text, notes),
    data: { values: [{ msg: 'no data' }] },
    mark: { type: 'text', fontSize: 14, color: '#888' },
    encoding: { text: { field: 'msg', type: 'nominal' } },
  };
}

/**
 * Indices of a curve thinned to at most ~maxPoints: the first and last point, and in each
 * of maxPoints/2 equal index buckets the min and the max of y (in index order), so spikes
 * and the best epoch survive. Curves no longer than maxPoints are kept whole.
 */
export function downsampleIndices(y: ArrayLike<number>, maxPoints: number): number[] {
  const n = y.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const keep = new Set<number>([0, n - 1]);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    let iMin = lo;
    let iMax = lo;
    for (let i = lo + 1; i < hi; i++) {
      if (y[i] < y[iMin]) iMin = i;
      if (y[i] > y[iMax]) iMax = i;
    }
    keep.add(iMin);
    keep.add(iMax);
  }
  return [...keep].sort((a, b) => a - b);
}

/** Short decimal for axis/bin labels: at most 3 decimals, no trailing zeros. */
const short = (v: number) => String(Number(v.toFixed(3)));

// ---------------------------------------------------------------- training curves (§2)

/**
 * One line of train bpc per series (log y), eval bpc as points; legend by label, in input
 * order. Long curves are thinned by `downsampleIndices`; the data keeps kind 'train'/'eval'.
 */
export function trainingCurvesSpec(series: CurveSeries[]): object {
  const text = 'Training curves';
  // kind 'lone' is the only train point of its series: a one-point line is invisible, so
  // the point layer draws it.
  const values: { label: string; kind: 'train' | 'eval' | 'lone'; epoch: number; bpc: number }[] = [];
  const labels: string[] = [];
  let dropped = 0;
  for (const s of series) {
    // Labels name the lines: a repeated label would merge two series into one line.
    let label = s.label;
    for (let k = 2; labels.includes(label); k++) label = `${s.label} (${k})`;
    labels.push(label);
    for (const [kind, xs, ys] of [
      ['train', s.epoch, s.trainBpc],
      ['eval', s.evalEpoch ?? [], s.evalBpc ?? []],
    ] as const) {
      // Lengths should match; extra entries on either side have no partner and are dropped.
      const n = Math.min(xs.length, ys.length);
      dropped += Math.max(xs.length, ys.length) - n;
      const ex: number[] = [];
      const ey: number[] = [];
      for (let i = 0; i < n; i++) {
        // Log scale: NaN, ±Infinity and bpc <= 0 cannot be drawn and are dropped.
        if (finite(xs[i]) && finite(ys[i]) && ys[i] > 0) { ex.push(xs[i]); ey.push(ys[i]); } else dropped++;
      }
      const k = kind === 'train' && ey.length === 1 ? 'lone' : kind;
      for (const i of downsampleIndices(ey, MAX_CURVE_POINTS)) values.push({ label, kind: k, epoch: ex[i], bpc: ey[i] });
    }
  }
  const notes = dropNote(dropped, 'non-finite or non-positive points');
  if (!values.length) return emptySpec(text, notes);
  const color = { field: 'label', type: 'nominal', title: 'run', scale: { domain: labels } };
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { format: 'd', tickMinStep: 1 } };
  const y = { field: 'bpc', type: 'quantitative', title: 'bits per character', scale: { type: 'log' } };
  return {
    ...frame(text, notes),
    data: { values },
    // A layer whose filter keeps nothing makes vega warn about an infinite extent: omit it.
    layer: [
      ...(values.some((v) => v.kind === 'train')
        ? [{ transform: [{ filter: "datum.kind === 'train'" }], mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } }]
        : []),
      ...(values.some((v) => v.kind !== 'train')
        ? [{ transform: [{ filter: "datum.kind !== 'train'" }], mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y, color } }]
        : []),
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- Table 3 influence (§5.3)

/** Signed and unsigned mean influence against state offset d, two lines and a zero rule. */
export function influenceSpec(rows: InfluenceRow[]): object {
  const text = 'Table 3: influence G·δ against offset (eq. 7)';
  const values: { d: number; kind: string; influence: number }[] = [];
  let dropped = 0;
  for (const kind of ['signed', 'unsigned'] as const) {
    for (const r of [...rows].sort((a, b) => a.d - b.d)) {
      // NaN/±Infinity are dropped: the line joins its neighbours across the gap.
      if (finite(r.d) && finite(r[kind])) values.push({ d: r.d, kind, influence: r[kind] });
      else dropped++;
    }
  }
  const notes = dropNote(dropped, 'non-finite values');
  if (!values.length) return emptySpec(text, notes);
  return {
    ...frame(text, notes),
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#888' }, encoding: { y: { field: 'zero', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'line', point: false, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'd', type: 'quantitative', title: 'state offset d (S[T-d])' },
          y: { field: 'influence', type: 'quantitative', title: 'mean influence on the target logit' },
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['signed', 'unsigned'] } },
        },
      },
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- |z| histogram (§3.2)

/** One bar per |z| bin, in input order; the overflow bin (hi null) is labelled "≥ lo". */
export function zHistogramSpec(bins: HistogramBin[]): object {
  const text = '|z| histogram over all neuron-steps (§3.2)';
  const values: { bin: string; count: number }[] = [];
  let droppedBins = 0;
  let zeroed = 0;
  for (const b of bins) {
    // A bin without a finite lower edge cannot be placed; a non-finite count is drawn as 0.
    if (!finite(b.lo) || (b.hi !== null && !finite(b.hi))) { droppedBins++; continue; }
    const count = finite(b.count) ? b.count : (zeroed++, 0);
    values.push({ bin: b.hi === null ? `≥ ${short(b.lo)}` : `${short(b.lo)}–${short(b.hi)}`, count });
  }
  const notes = [...dropNote(droppedBins, 'bins with non-finite edges'), ...(zeroed ? [`${zeroed} non-finite counts drawn as 0`] : [])];
  if (!values.length) return emptySpec(text, notes);
  return {
    ...frame(text, notes),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: null, title: '|z| bin', axis: { labelAngle: -45 } },
      y: { field: 'count', type: 'quantitative', title: 'neuron-steps' },
    },
  } satisfies Spec;
}

// ---------------------------------------------------------------- Table 1 pair counts (§3.3)

/**
 * Neurons per best offset pair, bars sorted by count (desc), mean R² printed above each bar.
 * The sort is stable: ties keep the input order (Table 1's own tie rule is loop order).
 */
export function pairCountsSpec(pairs: PairCount[]): object {
  const text = 'Table 1: neurons per best offset pair (state offsets)';
  let dropped = 0;
  const values = pairs
    .filter((p) => (finite(p.neurons) ? true : (dropped++, false)))
    .map((p) => ({ pair: p.pair, neurons: p.neurons, r2: finite(p.meanR2) ? `R² ${p.meanR2.toFixed(2)}` : '' }))
    .sort((a, b) => b.neurons - a.neurons);
  const notes = dropNote(dropped, 'pairs with a non-finite count');
  if (!values.length) return emptySpec(text, notes);
  const x = { field: 'pair', type: 'nominal', sort: null, title: 'best pair (d1, d2)', axis: { labelAngle: 0 } };
  const y = { field: 'neurons', type: 'quantitative', title: 'neurons' };
  return {
    ...frame(text, notes),
    data: { values },
    layer: [
      { mark: { type: 'bar' }, encoding: { x, y } },
      { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: 'r2', type: 'nominal' } } },
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- PS per unit (§5.2)

/** PS count per hidden unit j = 0..H-1, one bar per unit, sorted by unit. */
export function psPerUnitSpec(units: UnitCount[]): object {
  const text = 'Pattern-sensitive positions per unit (§5.2)';
  let dropped = 0;
  const values = units
    .filter((u) => (finite(u.unit) && finite(u.count) ? true : (dropped++, false)))
    .map((u) => ({ unit: u.unit, count: u.count }))
    .sort((a, b) => a.unit - b.unit);
  const notes = dropNote(dropped, 'non-finite entries');
  if (!values.length) return emptySpec(text, notes);
  // A band axis with 128 labels is unreadable: label about 16 evenly spaced units.
  const step = Math.max(1, Math.ceil(values.length / 16));
  const ticks = values.filter((_, i) => i % step === 0).map((v) => v.unit);
  return {
    ...frame(text, notes),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'unit', type: 'ordinal', sort: null, title: 'hidden unit j', axis: { values: ticks, labelAngle: 0 } },
      y: { field: 'count', type: 'quantitative', title: 'positions where j is PS' },
    },
  } satisfies Spec;
}

// ---------------------------------------------------------------- rendering

type Libs = { vega: typeof import('vega'); vl: typeof import('vega-lite') };
let libs: Promise<Libs> | undefined;

/** Compile a vega-lite spec and render it to an SVG string with vega's headless renderer. */
export async function renderSvg(spec: object): Promise<string> {
  libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }));
  const { vega, vl } = await libs;
  const view = new vega.View(vega.parse(vl.compile(spec as TopLevelSpec).spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * vega numbers clip paths and gradients from process-global counters, so the second render
 * of a chart would say clip7 where the first said clip1. Renumber them per document in
 * order of first appearance.
 */
function stableIds(svg: string): string {
  const ids = new Map<string, string>();
  const rename = (id: string) => {
    let s = ids.get(id);
    if (s === undefined) ids.set(id, (s = `${id.replace(/\d+$/, '')}${ids.size + 1}`));
    return s;
  };
  return svg.replace(/(id="|url\(#)((?:p_)?(?:clip|gradient_)\d+)(?=[")])/g, (_, pre: string, id: string) => pre + rename(id));
}
