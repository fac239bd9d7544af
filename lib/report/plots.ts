// The report's plots: vega-lite specs built from report data, rendered to SVG by
// vega's string renderer in Node. Nothing here draws SVG by hand.
//   - training curves (§2): train bpc per epoch, one line per run/seed, eval bpc as points;
//   - Table 3 (§5.3, eq. 7): signed and unsigned influence against state offset d = 0..49;
//   - the §3.2 |z| histogram (bins of |z| over all neuron-steps, plus an overflow bin);
//   - Table 1 (§3.3): neurons per best offset pair;
//   - Table 2 (§5.2): PS count per hidden unit.
//
// Where the paper prints a figure a plot can show, the builders take it as an optional
// argument (plot-data.ts reads it from paper-figures.json) and draw it as a black mark
// labelled "paper"; no figure is written here.
//
// The spec builders are pure and deterministic: same data -> same spec -> same SVG bytes
// (renderSvg renumbers vega's process-global clip/gradient ids per document). Values that
// cannot be drawn (NaN, ±Infinity, and on the log-scale curves also bpc <= 0) are dropped
// and the count dropped is said in the plot's subtitle, so a gap is never silent. Empty
// input gives a chart with its title and "no data" instead of a throw.
//
// vega and vega-lite are loaded on the render thread by `renderSvg`'s first use, never at
// module load: the CLI's no-op start-up must not pay ~250 ms for them.

import { Worker } from 'node:worker_threads';
import { vegaBundleFiles } from './viewer/libs.ts';

export interface CurveSeries { label: string; epoch: number[]; trainBpc: number[]; evalEpoch?: number[]; evalBpc?: number[] }
export interface InfluenceRow { d: number; signed: number; unsigned: number }
/** One |z| bin [lo, hi); hi null = the overflow bin [lo, ∞). */
export interface HistogramBin { lo: number; hi: number | null; count: number }
export interface PairCount { pair: string; neurons: number; meanR2: number }
export interface UnitCount { unit: number; count: number }
/** A figure the paper prints at one x (a point) or over a range of x (a segment). */
export interface PaperMark { x: number | [number, number]; y: number; series?: string }

const PAPER_COLOUR = '#000';

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
 * The paper's figures on a chart with quantitative x and y: points for single x, segments
 * for a range of x, in black, with a tooltip and the legend-free label "paper" in the
 * subtitle (the builders say so). Non-finite figures are left out.
 */
function paperLayers(marks: PaperMark[], xField: string, yField: string): Spec[] {
  const pts = marks.filter((m) => typeof m.x === 'number' && finite(m.x) && finite(m.y)).map((m) => ({ [xField]: m.x, [yField]: m.y, series: m.series ?? '' }));
  const segs = marks
    .filter((m) => Array.isArray(m.x) && finite(m.x[0]) && finite(m.x[1]) && finite(m.y))
    .map((m) => ({ [xField]: (m.x as number[])[0], x2: (m.x as number[])[1], [yField]: m.y, series: m.series ?? '' }));
  const tooltip = [{ field: 'series', title: 'paper' }, { field: yField, type: 'quantitative' }];
  const out: Spec[] = [];
  if (pts.length) {
    out.push({
      data: { values: pts },
      mark: { type: 'point', shape: 'diamond', filled: true, size: 50, color: PAPER_COLOUR },
      encoding: { x: { field: xField, type: 'quantitative' }, y: { field: yField, type: 'quantitative' }, tooltip },
    });
  }
  if (segs.length) {
    out.push({
      data: { values: segs },
      mark: { type: 'rule', strokeWidth: 2.5, color: PAPER_COLOUR },
      encoding: { x: { field: xField, type: 'quantitative' }, x2: { field: 'x2' }, y: { field: yField, type: 'quantitative' }, tooltip },
    });
  }
  return out;
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
 * order, and a second legend saying which mark is which. Long curves are thinned by
 * `downsampleIndices`; the data keeps kind 'train'/'eval'. `marks.checkpoint`: the epoch
 * of the checkpoint analysed (a dashed rule); `marks.paper`: the paper's final bpc (a rule).
 */
export function trainingCurvesSpec(series: CurveSeries[], marks: { checkpoint?: number | null; paper?: number | null } = {}): object {
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
  // The mark legend: solid line = train bpc per epoch, filled point = eval bpc.
  const lineKind = { field: 'mark', type: 'nominal', title: 'mark', scale: { domain: ['train bpc (line)'], range: [[1, 0]] } };
  const pointKind = { field: 'mark', type: 'nominal', title: null, scale: { domain: ['eval bpc (point)'], range: ['circle'] } };
  const tagged = values.map((v) => ({ ...v, mark: v.kind === 'train' ? 'train bpc (line)' : 'eval bpc (point)' }));
  const rules: Spec[] = [];
  if (marks.checkpoint != null && finite(marks.checkpoint)) {
    const d = { values: [{ epoch: marks.checkpoint, note: `checkpoint analysed (epoch ${marks.checkpoint})` }] };
    rules.push(
      { data: d, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
      { data: d, mark: { type: 'text', align: 'right', baseline: 'top', dx: -3, y: 4, fontSize: 10, color: '#555' }, encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'note' } } },
    );
  }
  if (marks.paper != null && finite(marks.paper) && marks.paper > 0) {
    const d = { values: [{ bpc: marks.paper, note: `paper: final ${marks.paper} bpc` }] };
    rules.push(
      { data: d, mark: { type: 'rule', color: PAPER_COLOUR, strokeDash: [2, 2] }, encoding: { y: { field: 'bpc', type: 'quantitative' } } },
      { data: d, mark: { type: 'text', align: 'left', baseline: 'bottom', x: 4, dy: -2, fontSize: 10, color: PAPER_COLOUR }, encoding: { y: { field: 'bpc', type: 'quantitative' }, text: { field: 'note' } } },
    );
  }
  return {
    ...frame(text, notes),
    data: { values: tagged },
    // A layer whose filter keeps nothing makes vega warn about an infinite extent: omit it.
    layer: [
      ...(values.some((v) => v.kind === 'train')
        ? [{ transform: [{ filter: "datum.kind === 'train'" }], mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, strokeDash: lineKind } }]
        : []),
      ...(values.some((v) => v.kind !== 'train')
        ? [{ transform: [{ filter: "datum.kind !== 'train'" }], mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y, color, shape: pointKind } }]
        : []),
      ...rules,
    ],
    resolve: { scale: { strokeDash: 'independent', shape: 'independent' } },
  } satisfies Spec;
}

// ---------------------------------------------------------------- Table 3 influence (§5.3)

/**
 * Signed and unsigned mean influence against state offset d, two lines and a zero rule;
 * the paper's Table 3 figures (series 'signed' / 'unsigned') as black points, its band
 * figures (x = [a, b]) as black segments over the band.
 */
export function influenceSpec(rows: InfluenceRow[], paper: PaperMark[] = []): object {
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
  const notes = [...dropNote(dropped, 'non-finite values'), ...(paper.length ? ["black: the paper's Table 3 (◆ one offset, — a band's value)"] : [])];
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
      ...paperLayers(paper, 'd', 'influence'),
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- |z| histogram (§3.2)

/**
 * One bar per |z| bin, in input order; the overflow bin (hi null) is labelled "≥ lo". The
 * count axis is logarithmic when the non-zero counts span more than two decades (so the
 * tail stays visible). `marks.margin`: a rule at that |z| (the margin threshold, 1);
 * `marks.ours` / `marks.paper`: mean |z| here and in the paper, as rules where they fall on
 * the binned axis, otherwise said at the right edge.
 */
export function zHistogramSpec(bins: HistogramBin[], marks: { margin?: number | null; ours?: number | null; paper?: number | null } = {}): object {
  const text = '|z| histogram over all neuron-steps (§3.2)';
  const values: { bin: string; count: number; lo: number; hi: number | null }[] = [];
  let droppedBins = 0;
  let zeroed = 0;
  for (const b of bins) {
    // A bin without a finite lower edge cannot be placed; a non-finite count is drawn as 0.
    if (!finite(b.lo) || (b.hi !== null && !finite(b.hi))) { droppedBins++; continue; }
    const count = finite(b.count) ? b.count : (zeroed++, 0);
    values.push({ bin: b.hi === null ? `≥ ${short(b.lo)}` : `${short(b.lo)}–${short(b.hi)}`, count, lo: b.lo, hi: b.hi });
  }
  const positive = values.map((v) => v.count).filter((c) => c > 0);
  const logScale = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 100;
  const notes = [
    ...dropNote(droppedBins, 'bins with non-finite edges'),
    ...(zeroed ? [`${zeroed} non-finite counts drawn as 0`] : []),
    ...(logScale ? ['log count axis; empty bins not drawn'] : []),
  ];
  if (!values.length) return emptySpec(text, notes);
  // Where a |z| value falls on the binned axis: the bin holding it, at its left edge
  // (bandPosition 0) when it is the bin's lower edge, else the bin's middle.
  const place = (z: number) => {
    const v = values.find((b) => z >= b.lo && (b.hi === null || z < b.hi));
    return v ? { bin: v.bin, band: z === v.lo ? 0 : 0.5 } : null;
  };
  const rules: { z: number; note: string; colour: string }[] = [];
  if (marks.margin != null && finite(marks.margin)) rules.push({ z: marks.margin, note: `|z| = ${short(marks.margin)}`, colour: '#c0392b' });
  if (marks.ours != null && finite(marks.ours)) rules.push({ z: marks.ours, note: `ours: mean |z| = ${short(marks.ours)}`, colour: '#1f77b4' });
  if (marks.paper != null && finite(marks.paper)) rules.push({ z: marks.paper, note: `paper: mean |z| = ${short(marks.paper)}`, colour: PAPER_COLOUR });
  const last = values[values.length - 1];
  const layers: Spec[] = [];
  const offAxis: string[] = [];
  rules.forEach((r, i) => {
    const at = place(r.z);
    // Beyond the last finite bin edge (inside the overflow bin or past all bins): say it.
    if (!at || (last.hi === null && at.bin === last.bin && r.z !== last.lo)) { offAxis.push(`${r.note} (beyond ${last.hi === null ? `${short(last.lo)}` : short(last.hi)}) →`); return; }
    const x = { field: 'bin', type: 'ordinal', sort: values.map((v) => v.bin), bandPosition: at.band };
    const d = { values: [{ bin: at.bin, note: r.note }] };
    layers.push(
      { data: d, mark: { type: 'rule', color: r.colour, strokeDash: [4, 2] }, encoding: { x } },
      { data: d, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 4 + 13 * i, fontSize: 10, color: r.colour }, encoding: { x, text: { field: 'note' } } },
    );
  });
  offAxis.forEach((note, i) => {
    layers.push({ data: { values: [{ note }] }, mark: { type: 'text', align: 'right', baseline: 'top', x: WIDTH - 2, y: 40 + 13 * i, fontSize: 10, color: PAPER_COLOUR }, encoding: { text: { field: 'note' } } });
  });
  const xAll = { field: 'bin', type: 'ordinal', sort: null, title: '|z| bin', axis: { labelAngle: -45 } };
  // Log bars: not stacked (a stack starts at 0, which a log scale cannot show); vega draws them from the plot's bottom.
  const yCount = { field: 'count', type: 'quantitative', title: 'neuron-steps', ...(logScale ? { scale: { type: 'log' }, stack: null } : {}) };
  return {
    ...frame(text, notes),
    layer: [
      {
        data: { values: logScale ? values.filter((v) => v.count > 0) : values },
        mark: { type: 'bar' },
        encoding: { x: { ...xAll, scale: { domain: values.map((v) => v.bin) } }, y: yCount, tooltip: [{ field: 'bin', title: '|z|' }, { field: 'count', type: 'quantitative' }] },
      },
      ...layers,
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- Table 1 pair counts (§3.3)

/**
 * Neurons per best offset pair, bars sorted by count (desc), mean R² printed above each bar.
 * The sort is stable: ties keep the input order (Table 1's own tie rule is loop order).
 */
export function pairCountsSpec(pairs: PairCount[], paper: { pair: string; neurons: number }[] = []): object {
  const text = 'Table 1: neurons per best offset pair (state offsets)';
  let dropped = 0;
  const values = pairs
    .filter((p) => (finite(p.neurons) ? true : (dropped++, false)))
    .map((p) => ({ pair: p.pair, neurons: p.neurons, r2: finite(p.meanR2) ? `R² ${p.meanR2.toFixed(2)}` : '' }))
    .sort((a, b) => b.neurons - a.neurons);
  const notes = dropNote(dropped, 'pairs with a non-finite count');
  if (!values.length) return emptySpec(text, notes);
  // The paper's count for a pair drawn on our bar for the same pair ("(1, 7)" = "(1,7)").
  const key = (p: string) => p.replace(/\s+/g, '').toLowerCase();
  const ours = new Map(values.map((v) => [key(v.pair), v.pair]));
  const onAxis = paper.filter((p) => finite(p.neurons) && ours.has(key(p.pair))).map((p) => ({ pair: ours.get(key(p.pair))!, neurons: p.neurons, what: `paper: ${p.neurons}` }));
  if (onAxis.length) notes.push("◆ the paper's Table 1 count");
  const x = { field: 'pair', type: 'nominal', sort: null, title: 'best pair (d1, d2)', axis: { labelAngle: 0 }, scale: { domain: values.map((v) => v.pair) } };
  const y = { field: 'neurons', type: 'quantitative', title: 'neurons' };
  return {
    ...frame(text, notes),
    data: { values },
    layer: [
      { mark: { type: 'bar' }, encoding: { x, y, tooltip: [{ field: 'pair' }, { field: 'neurons', type: 'quantitative' }, { field: 'r2' }] } },
      { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: 'r2', type: 'nominal' } } },
      ...(onAxis.length
        ? [{ data: { values: onAxis }, mark: { type: 'point', shape: 'diamond', filled: true, size: 60, color: PAPER_COLOUR }, encoding: { x, y, tooltip: [{ field: 'what' }] } }]
        : []),
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- PS per unit (§5.2)

/**
 * PS count per hidden unit j = 0..H-1, one bar per unit, sorted by unit; the `name` units
 * with the most PS positions named above their bars (h8, h68, … as computed here), and the
 * paper's counts for the units it names as black diamonds.
 */
export function psPerUnitSpec(units: UnitCount[], opts: { name?: number; paper?: UnitCount[] } = {}): object {
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
  const top = [...values].sort((a, b) => b.count - a.count || a.unit - b.unit).slice(0, opts.name ?? 0).map((v) => ({ ...v, name: `h${v.unit}` }));
  const known = new Set(values.map((v) => v.unit));
  const paper = (opts.paper ?? []).filter((p) => finite(p.count) && known.has(p.unit)).map((p) => ({ unit: p.unit, count: p.count, what: `paper: h${p.unit} ${p.count}` }));
  if (top.length) notes.push(`the ${top.length} units PS most often named`);
  if (paper.length) notes.push("◆ the paper's counts (§5.2)");
  const x = { field: 'unit', type: 'ordinal', sort: null, title: 'hidden unit j', axis: { values: ticks, labelAngle: 0 }, scale: { domain: values.map((v) => v.unit) } };
  const y = { field: 'count', type: 'quantitative', title: 'positions where j is PS' };
  return {
    ...frame(text, notes),
    data: { values },
    layer: [
      { mark: { type: 'bar' }, encoding: { x, y, tooltip: [{ field: 'unit', title: 'unit j' }, { field: 'count', type: 'quantitative' }] } },
      ...(top.length ? [{ data: { values: top }, mark: { type: 'text', dy: -10, fontSize: 10, fontWeight: 'bold' }, encoding: { x, y, text: { field: 'name' } } }] : []),
      ...(paper.length
        ? [{ data: { values: paper }, mark: { type: 'point', shape: 'diamond', filled: true, size: 40, color: PAPER_COLOUR }, encoding: { x, y, tooltip: [{ field: 'what' }] } }]
        : []),
    ],
  } satisfies Spec;
}

// ---------------------------------------------------------------- rendering

// vega and vega-lite run on worker threads, lib/report/render-svg-thread.mjs, started
// without the TypeScript loader (it compiles their UMD bundles with a code cache) and unreferenced
// while idle (they never keep the process alive). Each thread renders its plots one after
// another; a plot goes to the thread with the fewest pending, so the main thread can build
// the report meanwhile and two plots can render at once on two cores. A plot's bytes do not
// depend on the thread (renderOne renumbers vega's ids per document).

interface Thread { w: Worker; pending: Map<number, { resolve: (svg: string) => void; reject: (e: Error) => void }> }
let threads: Thread[] = [];
let nextId = 0;

/** Render threads to start (TOTAL_INTERP_RENDER_THREADS, default 1). */
function threadCount(): number {
  const n = Number(process.env.TOTAL_INTERP_RENDER_THREADS ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

function fail(t: Thread, e: Error): void {
  threads = threads.filter((x) => x !== t);
  for (const p of t.pending.values()) p.reject(e);
  t.pending.clear();
}

function startThread(): Thread {
  const bundles = Object.fromEntries(vegaBundleFiles().map((f) => [f.name, f.path]));
  const t: Thread = { w: new Worker(new URL('./render-svg-thread.mjs', import.meta.url), { execArgv: [], workerData: bundles }), pending: new Map() };
  t.w.on('message', ({ id, svg, error }: { id: number; svg?: string; error?: string }) => {
    const p = t.pending.get(id);
    if (!p) return;
    t.pending.delete(id);
    if (t.pending.size === 0) t.w.unref();
    if (error !== undefined) p.reject(new Error(`rendering a plot: ${error}\nhint: check the vega-lite spec; npm ci restores vega and vega-lite`));
    else p.resolve(svg!);
  });
  t.w.on('error', (e) => fail(t, new Error(`the plot renderer stopped: ${e.message}\nhint: npm ci restores vega and vega-lite`)));
  t.w.on('exit', (code) => fail(t, new Error(`the plot renderer exited (code ${code})\nhint: npm ci restores vega and vega-lite`)));
  t.w.unref();
  return t;
}

/** Start the render threads now (vega starts loading there at once); renderSvg does it on first use. */
export function startRenderer(): void {
  for (let n = threadCount(); threads.length < n; ) threads.push(startThread());
}

/** Compile a vega-lite spec and render it to an SVG string with vega's headless renderer, on a render thread. */
export function renderSvg(spec: object): Promise<string> {
  startRenderer();
  const t = threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    t.pending.set(id, { resolve, reject });
    t.w.ref();
    t.w.postMessage({ id, spec });
  });
}
