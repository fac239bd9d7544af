import { XMLValidator } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  downsampleIndices,
  influenceSpec,
  pairCountsSpec,
  psPerUnitSpec,
  renderSvg,
  trainingCurvesSpec,
  zHistogramSpec,
  type CurveSeries,
} from '../../lib/report/plots.ts';

/**
 * Items drawn by the data marks of one type: vega writes each mark as
 * `<g class="mark-<type> role-mark ...">` with one `<path>` per item (a whole line is one
 * path). Axis, legend and title marks have other roles and are not counted.
 */
function markItems(svg: string, type: 'rect' | 'line' | 'symbol' | 'rule' | 'text'): number {
  let n = 0;
  // An empty mark is a self-closing <g .../>.
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*?(?:/>|>(.*?)</g>)`, 'g');
  for (const m of svg.matchAll(re)) n += ((m[1] ?? '').match(type === 'rule' ? /<line/g : type === 'text' ? /<text/g : /<path/g) ?? []).length;
  return n;
}

function expectValidSvg(svg: string) {
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg.startsWith('<svg')).toBe(true);
}

const titleOf = (svg: string) => svg.match(/role-title-text.*?<text[^>]*>([^<]*)<\/text>/)?.[1];

function curve(label: string, epochs: number, seed: number): CurveSeries {
  const epoch = Array.from({ length: epochs }, (_, i) => i + 1);
  const evalEpoch = epoch.filter((e) => e % 100 === 0);
  return {
    label,
    epoch,
    trainBpc: epoch.map((e) => 8 * Math.exp(-e / (200 + seed)) + 0.05),
    evalEpoch,
    evalBpc: evalEpoch.map((e) => 8 * Math.exp(-e / (200 + seed)) + 0.08),
  };
}

const influenceRows = Array.from({ length: 50 }, (_, d) => ({ d, signed: 1.7 * Math.exp(-d / 3) - 0.02, unsigned: 1.8 * Math.exp(-d / 4) }));
const histBins = [...Array.from({ length: 20 }, (_, i) => ({ lo: i / 2, hi: i / 2 + 0.5, count: 900 - 40 * i })), { lo: 10, hi: null, count: 2500 }];
const pairs = [
  { pair: '(1,8)', neurons: 12, meanR2: 0.8 },
  { pair: '(1,20)', neurons: 40, meanR2: 0.9 },
  { pair: '(8,2)', neurons: 12, meanR2: 0.7 },
  { pair: '(1,3)', neurons: 20, meanR2: 0.85 },
  { pair: '(8,20)', neurons: 9, meanR2: 0.6 },
  { pair: 'Other', neurons: 35, meanR2: 0.5 },
];
const units = Array.from({ length: 128 }, (_, unit) => ({ unit, count: (unit * 37) % 200 }));

// vega and vega-lite load on the first render (~0.3-0.5 s); pay it once, outside the tests' timers.
beforeAll(async () => {
  await renderSvg(psPerUnitSpec(units.slice(0, 2)));
});

// A spec that makes vega-lite or vega warn (bad encoding, empty log domain, ...) is a bug.
let warn: ReturnType<typeof vi.spyOn>;
beforeAll(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  const calls = warn.mock.calls.slice();
  warn.mockClear();
  expect(calls).toEqual([]);
});

describe('training curves', () => {
  it('draw one line per series and one point per eval figure', async () => {
    const svg = await renderSvg(trainingCurvesSpec([curve('seed 42', 400, 0), curve('seed 43', 400, 7), curve('seed 44', 400, 13)]));
    expectValidSvg(svg);
    expect(markItems(svg, 'line')).toBe(3);
    expect(markItems(svg, 'symbol')).toBe(3 * 4);
    for (const s of ['seed 42', 'seed 43', 'seed 44']) expect(svg).toContain(`>${s}</text>`);
  });

  it('render a single epoch without eval figures as a visible point', async () => {
    const svg = await renderSvg(trainingCurvesSpec([{ label: 'one', epoch: [1], trainBpc: [7.9], evalEpoch: [], evalBpc: [] }]));
    expectValidSvg(svg);
    expect(markItems(svg, 'line')).toBe(0);
    expect(markItems(svg, 'symbol')).toBe(1);
    expect(svg).not.toContain('>1.000000</text>'); // epochs are labelled as integers
  });

  it('drop NaN, Infinity and non-positive bpc and say so in the subtitle', () => {
    const spec = trainingCurvesSpec([{ label: 'a', epoch: [1, 2, 3, 4, 5], trainBpc: [8, NaN, Infinity, 0, 2] }]) as {
      title: { subtitle?: string };
      data: { values: { bpc: number }[] };
    };
    expect(spec.data.values.map((v) => v.bpc)).toEqual([8, 2]);
    expect(spec.title.subtitle).toBe('3 non-finite or non-positive points dropped');
  });

  it('keep repeated labels as separate lines', async () => {
    const svg = await renderSvg(trainingCurvesSpec([curve('run', 50, 0), curve('run', 50, 5)]));
    expect(markItems(svg, 'line')).toBe(2);
  });

  it('thin 4000 epochs x 5 seeds to about one point per pixel, keeping the ends and the minimum', () => {
    const series = [1, 2, 3, 4, 5].map((s) => curve(`seed ${s}`, 4000, s));
    series[0].trainBpc[2345] = 0.001; // a spike down must survive the thinning
    const spec = trainingCurvesSpec(series) as { data: { values: { label: string; kind: string; epoch: number; bpc: number }[] } };
    const train0 = spec.data.values.filter((v) => v.label === 'seed 1' && v.kind === 'train');
    expect(train0.length).toBeLessThanOrEqual(562);
    expect(train0[0].epoch).toBe(1);
    expect(train0[train0.length - 1].epoch).toBe(4000);
    expect(train0.some((v) => v.epoch === 2346 && v.bpc === 0.001)).toBe(true);
    expect(spec.data.values.filter((v) => v.kind === 'train').length).toBeLessThanOrEqual(5 * 562);
    expect(spec.data.values.filter((v) => v.kind === 'eval').length).toBe(5 * 40);
  });
});

describe('downsampleIndices', () => {
  it('keeps short curves whole and returns increasing indices within budget for long ones', () => {
    expect(downsampleIndices([3, 1, 2], 10)).toEqual([0, 1, 2]);
    const y = Array.from({ length: 1001 }, (_, i) => Math.sin(i / 7));
    const idx = downsampleIndices(y, 100);
    expect(idx.length).toBeLessThanOrEqual(102);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(1000);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
  });
});

describe('Table 3 influence plot', () => {
  it('draws the signed and the unsigned line and one zero rule', async () => {
    const svg = await renderSvg(influenceSpec(influenceRows));
    expectValidSvg(svg);
    expect(markItems(svg, 'line')).toBe(2);
    expect(markItems(svg, 'rule')).toBe(1);
    expect(svg).toContain('>signed</text>');
    expect(svg).toContain('>unsigned</text>');
  });

  it('drops a NaN value but keeps both lines', async () => {
    const rows = influenceRows.map((r) => (r.d === 7 ? { ...r, signed: NaN } : r));
    const spec = influenceSpec(rows) as { title: { subtitle?: string } };
    expect(spec.title.subtitle).toBe('1 non-finite values dropped');
    expect(markItems(await renderSvg(spec), 'line')).toBe(2);
  });
});

describe('|z| histogram', () => {
  it('draws one bar per bin and labels the overflow bin "≥ max"', async () => {
    const svg = await renderSvg(zHistogramSpec(histBins));
    expectValidSvg(svg);
    expect(markItems(svg, 'rect')).toBe(21);
    expect(svg).toContain('>≥ 10</text>');
    expect(svg).toContain('>0.5–1</text>');
  });
});

describe('Table 1 pair counts', () => {
  it('draws one bar per pair, sorted by count with ties in input order', async () => {
    const spec = pairCountsSpec(pairs) as { data: { values: { pair: string }[] } };
    expect(spec.data.values.map((v) => v.pair)).toEqual(['(1,20)', 'Other', '(1,3)', '(1,8)', '(8,2)', '(8,20)']);
    const svg = await renderSvg(spec);
    expectValidSvg(svg);
    expect(markItems(svg, 'rect')).toBe(6);
    expect(markItems(svg, 'text')).toBe(6); // the mean R² above each bar
    expect(svg).toContain('>R² 0.90</text>');
  });
});

describe('PS count per unit', () => {
  it('draws one bar per hidden unit', async () => {
    const svg = await renderSvg(psPerUnitSpec(units));
    expectValidSvg(svg);
    expect(markItems(svg, 'rect')).toBe(128);
  });
});

describe('every plot', () => {
  const all = {
    curves: (e: boolean) => trainingCurvesSpec(e ? [] : [curve('a', 300, 1), curve('b', 300, 2)]),
    influence: (e: boolean) => influenceSpec(e ? [] : influenceRows),
    histogram: (e: boolean) => zHistogramSpec(e ? [] : histBins),
    pairs: (e: boolean) => pairCountsSpec(e ? [] : pairs),
    units: (e: boolean) => psPerUnitSpec(e ? [] : units),
  };

  it('renders byte-identical SVG from the same data', async () => {
    for (const make of Object.values(all)) {
      const a = await renderSvg(make(false));
      const b = await renderSvg(make(false));
      expect(b).toBe(a);
    }
  });

  it('renders empty input as a titled "no data" chart', async () => {
    for (const make of Object.values(all)) {
      const svg = await renderSvg(make(true));
      expectValidSvg(svg);
      expect(titleOf(svg)).toBe((make(false) as { title: { text: string } }).title.text);
      expect(svg).toContain('>no data</text>');
      expect(markItems(svg, 'rect') + markItems(svg, 'line')).toBe(0);
    }
  });

  it('has stable clip-path ids across renders (vega numbers them process-wide)', async () => {
    const spec = { width: 50, height: 50, data: { values: [{ a: 1, b: 2 }] }, mark: { type: 'bar', clip: true }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } };
    const a = await renderSvg(spec);
    const b = await renderSvg(spec);
    expect(a).toMatch(/<clipPath id="clip1"/);
    expect(b).toBe(a);
    const [c, d] = await Promise.all([renderSvg(spec), renderSvg(spec)]); // interleaved renders
    expect(c).toBe(a);
    expect(d).toBe(a);
  });
});

describe('the plots module', () => {
  it('loads vega only on the render thread (no value import in plots.ts), from the UMD bundles', () => {
    const src = readFileSync(new URL('../../lib/report/plots.ts', import.meta.url), 'utf8');
    const topImports = src.split('\n').filter((l) => /^import\b/.test(l));
    for (const l of topImports) if (/['"]vega(-lite)?['"]/.test(l)) expect(l).toMatch(/^import type /);
    expect(src).not.toContain("import('vega')");
    const thread = readFileSync(new URL('../../lib/report/render-svg-thread.mjs', import.meta.url), 'utf8');
    expect(thread).toContain('new vm.Script(');
  });

  it('renders the same bytes from the UMD bundles as from the packages\' ES modules', async () => {
    const { stableIds } = (await import(new URL('../../lib/report/render-svg-thread.mjs', import.meta.url).href)) as { stableIds: (svg: string) => string };
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
    const esm = async (spec: object) => {
      const view = new vega.View(vega.parse(vl.compile(spec as any).spec), { renderer: 'none', logLevel: vega.Warn });
      try {
        return stableIds(await view.toSVG());
      } finally {
        view.finalize();
      }
    };
    const specs = [influenceSpec(influenceRows), zHistogramSpec(histBins), psPerUnitSpec(units), pairCountsSpec(pairs), trainingCurvesSpec([curve('seed 42', 400, 0)], { checkpoint: 350, paper: 0.079 })];
    for (const spec of specs) expect(await renderSvg(spec)).toBe(await esm(spec));
  });
});

describe("marks: the paper's figures, the margin, the checkpoint, named units", () => {
  it('training curves: a legend naming the line (train) and the point (eval) marks, the checkpoint and the paper rule', async () => {
    const svg = await renderSvg(trainingCurvesSpec([curve('seed 42', 400, 0)], { checkpoint: 350, paper: 0.079 }));
    expectValidSvg(svg);
    expect(svg).toContain('>train bpc (line)</text>');
    expect(svg).toContain('>eval bpc (point)</text>');
    expect(svg).toContain('>checkpoint analysed (epoch 350)</text>');
    expect(svg).toContain('>paper: final 0.079 bpc</text>');
    expect(markItems(svg, 'rule')).toBe(2);
  });

  it("influence: the paper's single offsets as points and its bands as segments", async () => {
    const paper = [
      { x: 0, y: 1.746, series: 'signed (paper)' },
      { x: 1, y: 0.78, series: 'signed (paper)' },
      { x: [5, 9] as [number, number], y: 1.3, series: 'unsigned (paper, ~)' },
    ];
    const svg = await renderSvg(influenceSpec(influenceRows, paper));
    expectValidSvg(svg);
    expect(markItems(svg, 'symbol')).toBe(2);
    expect(markItems(svg, 'rule')).toBe(2); // the zero rule and one band segment
    expect(markItems(svg, 'line')).toBe(2);
  });

  it('|z| histogram: log count axis when counts span decades, every bin drawn, |z| = 1 marked, a paper mean off the axis said', async () => {
    const bins = [...Array.from({ length: 20 }, (_, i) => ({ lo: i / 2, hi: i / 2 + 0.5, count: Math.round(40000 * Math.exp(-i / 2)) })), { lo: 10, hi: null, count: 10 }];
    const spec = zHistogramSpec(bins, { margin: 1, ours: 1.3, paper: 60.5 }) as { title: { subtitle: string } };
    expect(spec.title.subtitle).toContain('log count axis');
    const svg = await renderSvg(spec);
    expectValidSvg(svg);
    expect(markItems(svg, 'rect')).toBe(21); // the tail bins too
    expect(svg).toContain('>|z| = 1</text>');
    expect(svg).toContain('>ours: mean |z| = 1.3</text>');
    expect(svg).toContain('>paper: mean |z| = 60.5 (beyond 10) →</text>');
    // counts within two decades keep a linear axis
    expect((zHistogramSpec(histBins) as { title: { subtitle?: string } }).title.subtitle ?? '').not.toContain('log');
  });

  it('PS per unit: the top units named as computed, the paper counts as points', async () => {
    const svg = await renderSvg(psPerUnitSpec(units, { name: 3, paper: [{ unit: 8, count: 825 }, { unit: 500, count: 1 }] }));
    expectValidSvg(svg);
    const top = [...units].sort((a, b) => b.count - a.count || a.unit - b.unit).slice(0, 3);
    for (const u of top) expect(svg).toContain(`>h${u.unit}</text>`);
    expect(markItems(svg, 'symbol')).toBe(1); // h500 is not a unit here
  });

  it("pair counts: the paper's count drawn on the bar of the same pair, spaces ignored", async () => {
    const svg = await renderSvg(pairCountsSpec(pairs, [{ pair: '(1, 8)', neurons: 20 }, { pair: '(9,9)', neurons: 3 }]));
    expect(markItems(svg, 'symbol')).toBe(1);
  });
});
