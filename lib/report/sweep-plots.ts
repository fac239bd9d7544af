// A sweep's plot for one metric (vega-lite, rendered by plots.ts renderSvg): the metric
// against the first swept param, the mean over seeds as a line with points, the min–max
// over seeds as a band, each seed as a small dot. Further swept params, if any, colour the
// series. A numeric x spanning 8× or more (data sizes) gets a log2 axis. Non-finite values
// are dropped, and the subtitle says how many. A seed whose model did not converge
// (docs/definitions.md §6.4) is a grey dot, and the legend says "not converged".
// sweepLinesSpec draws several metrics on one axis (Q3's in-sample, held-out and
// Kneser–Ney bpc), each its own line and band.

import type { SweepJson } from './sweep-types.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function sweepPlotSpec(s: SweepJson, id: string, text: string): object {
  const [xAxis, ...rest] = s.axes;
  const xParam = xAxis?.param ?? 'point';
  const series = (v: Record<string, unknown>) => rest.map((a) => `${a.param}=${String(v[a.param])}`).join(', ') || 'mean';
  const xs = s.rows.map((r) => r.values[xParam]);
  const numeric = xs.every((x) => typeof x === 'number' && Number.isFinite(x));
  const positive = numeric && xs.every((x) => (x as number) > 0);
  const span = positive ? Math.max(...(xs as number[])) / Math.min(...(xs as number[])) : 1;
  const xEnc = {
    field: 'x',
    type: numeric ? 'quantitative' : 'ordinal',
    title: xParam,
    ...(numeric && span >= 8 ? { scale: { type: 'log', base: 2 }, axis: { values: [...new Set(xs)] } } : {}),
  };
  const stats: Record<string, unknown>[] = [];
  const dots: Record<string, unknown>[] = [];
  let dropped = 0;
  s.rows.forEach((r, i) => {
    const x = numeric ? xs[i] : String(xs[i]);
    const c = r.metrics[id];
    if (c?.spread && Number.isFinite(c.spread.mean)) stats.push({ x, series: series(r.values), mean: c.spread.mean, min: c.spread.min, max: c.spread.max });
    c?.values.forEach((v, k) => {
      if (v !== null && Number.isFinite(v)) dots.push({ x, series: series(r.values), value: v, seed: String(r.seeds[k]), status: statusOf(r.converged?.[k]) });
      else dropped++;
    });
  });
  const notConverged = dots.filter((d) => d.status === NOT).length;
  const notes = [
    'line: mean over seeds; band: min–max; dots: each seed',
    ...(notConverged ? [`grey dots: ${notConverged} not converged`] : []),
    ...(dropped ? [`${dropped} missing or non-finite values dropped`] : []),
  ];
  const color = rest.length ? { color: { field: 'series', type: 'nominal', title: null } } : {};
  const title = { text, subtitle: notes.join('; ') };
  if (!stats.length) {
    return { $schema: SCHEMA, title, width: 480, height: 240, data: { values: [{ msg: 'no data' }] }, mark: { type: 'text', fontSize: 14, color: '#888' }, encoding: { text: { field: 'msg', type: 'nominal' } } };
  }
  return {
    $schema: SCHEMA,
    title,
    width: 480,
    height: 240,
    layer: [
      { data: { values: stats }, mark: { type: 'area', opacity: 0.2 }, encoding: { x: xEnc, y: { field: 'min', type: 'quantitative', title: id, scale: { zero: false } }, y2: { field: 'max' }, ...color } },
      { data: { values: stats }, mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: id }, ...color } },
      {
        data: { values: dots },
        mark: { type: 'point', size: 18, opacity: 0.6, filled: true },
        encoding: {
          x: xEnc,
          y: { field: 'value', type: 'quantitative' },
          tooltip: [{ field: 'seed' }, { field: 'value', type: 'quantitative' }, { field: 'status' }],
          ...(rest.length ? { ...color, opacity: STATUS_OPACITY } : { color: STATUS_COLOR }),
        },
      },
    ],
  };
}

const NOT = 'not converged';
const statusOf = (c: boolean | null | undefined) => (c === false ? NOT : c === true ? 'converged' : 'no held-out curve');
const STATUS_COLOR = { field: 'status', type: 'nominal', title: null, scale: { domain: ['converged', NOT, 'no held-out curve'], range: ['#4c78a8', '#bbbbbb', '#4c78a8'] } };
const STATUS_OPACITY = { field: 'status', type: 'nominal', title: null, scale: { domain: ['converged', NOT, 'no held-out curve'], range: [0.8, 0.2, 0.8] } };

/** Several metrics against the first swept param on one axis: a line and min–max band each, every seed a dot (grey: not converged). */
export function sweepLinesSpec(s: SweepJson, lines: { id: string; label: string }[], text: string): object {
  const xParam = s.axes[0]?.param ?? 'point';
  const xs = s.rows.map((r) => r.values[xParam]);
  const numeric = xs.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0);
  const span = numeric ? Math.max(...(xs as number[])) / Math.min(...(xs as number[])) : 1;
  const xEnc = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: xParam, ...(numeric && span >= 8 ? { scale: { type: 'log', base: 2 }, axis: { values: [...new Set(xs)] } } : {}) };
  const stats: Record<string, unknown>[] = [];
  const dots: Record<string, unknown>[] = [];
  for (const l of lines) {
    s.rows.forEach((r, i) => {
      const x = numeric ? xs[i] : String(xs[i]);
      const c = r.metrics[l.id];
      if (c?.spread && Number.isFinite(c.spread.mean)) stats.push({ x, line: l.label, mean: c.spread.mean, min: c.spread.min, max: c.spread.max });
      c?.values.forEach((v, k) => {
        // a counting model has no training to converge: its dots keep their colour
        const status = l.id.startsWith('kn.') ? 'converged' : statusOf(r.converged?.[k]);
        if (v !== null && Number.isFinite(v)) dots.push({ x, line: l.label, value: v, seed: String(r.seeds[k]), status });
      });
    });
  }
  const notConverged = dots.filter((d) => d.status === NOT).length;
  const title = { text, subtitle: ['lines: mean over seeds; bands: min–max; dots: each seed', ...(notConverged ? [`hollow grey dots: ${notConverged} not converged`] : [])].join('; ') };
  const color = { field: 'line', type: 'nominal', title: null };
  return {
    $schema: SCHEMA,
    title,
    width: 480,
    height: 260,
    layer: [
      { data: { values: stats }, mark: { type: 'area', opacity: 0.15 }, encoding: { x: xEnc, y: { field: 'min', type: 'quantitative', title: 'bpc', scale: { zero: false } }, y2: { field: 'max' }, color } },
      { data: { values: stats }, mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: 'bpc' }, color } },
      {
        data: { values: dots.filter((d) => d.status !== NOT) },
        mark: { type: 'point', size: 18, opacity: 0.6, filled: true },
        encoding: { x: xEnc, y: { field: 'value', type: 'quantitative' }, color, tooltip: [{ field: 'line' }, { field: 'seed' }, { field: 'value', type: 'quantitative' }] },
      },
      // the not-converged seeds, when there are any (an empty layer has no extent: vega warns)
      ...(notConverged
        ? [
            {
              data: { values: dots.filter((d) => d.status === NOT) },
              mark: { type: 'point', size: 30, opacity: 0.9, filled: false, color: '#999' },
              encoding: { x: xEnc, y: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'line' }, { field: 'seed' }, { field: 'value', type: 'quantitative' }, { field: 'status' }] },
            },
          ]
        : []),
    ],
  };
}

/**
 * Every model's held-out curve (docs/definitions.md §6.4): held-out bpc against the
 * fraction of its epochs run (sizes train different epoch counts), one line per model,
 * coloured by size, dashed where the model did not converge.
 */
export function heldoutCurvesSpec(s: SweepJson, text: string): object {
  const xParam = s.axes[0]?.param ?? 'point';
  const values: Record<string, unknown>[] = [];
  for (const r of s.rows) {
    r.heldoutCurves?.forEach((c, k) => {
      if (!c?.length) return;
      const E = Math.max(...c.map((p) => p.epoch)) || 1;
      for (const p of c) values.push({ t: p.epoch / E, bpc: p.heldoutBpc, size: String(r.values[xParam]), model: `${String(r.values[xParam])}/${String(r.seeds[k])}`, status: statusOf(r.converged?.[k]) });
    });
  }
  const order = [...new Set(s.rows.map((r) => String(r.values[xParam])))];
  return {
    $schema: SCHEMA,
    title: { text, subtitle: 'dashed: not converged (best held-out bpc improved by 0.01 or more over the last quarter)' },
    width: 480,
    height: 260,
    data: { values },
    mark: { type: 'line', point: false, opacity: 0.8 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'epoch / epochs run', scale: { domain: [0, 1] } },
      y: { field: 'bpc', type: 'quantitative', title: 'held-out bpc', scale: { zero: false } },
      color: { field: 'size', type: 'ordinal', title: xParam, sort: order },
      detail: { field: 'model' },
      strokeDash: { field: 'status', type: 'nominal', title: null, scale: { domain: ['converged', NOT, 'no held-out curve'], range: [[1, 0], [4, 3], [1, 0]] } },
    },
  };
}
