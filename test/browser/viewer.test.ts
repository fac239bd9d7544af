// The viewer in a real browser: Debian's chromium driven by playwright-core.
// A tiny synthetic model (H = 16, random weights from a fixed seed) on 200 bytes of
// synthetic text is imported into a temporary copy of the project and the real engine
// builds the viewer stage; viewer.html is opened from a file:// URL with every non-file
// request refused, and the test checks: no console errors and no network requests; the
// position panel at t = 29 shows the decomposition stage's logits; picking unit 8 shows
// its PS count from the carrier-pattern stage; ← / → move the position; the new panels
// (top-k next bytes, the unit × position heat map, top contexts, the pattern table in
// words, two units side by side) each show a value checked against the stage outputs;
// deep links #t=…&unit=… open there, and one past the end says so; the heat map's carrier
// view shows c_t = Wh·S[t-1] + bh as the model and trace give it. A second page holds a
// window of the text (viewer.offset = 50, viewer.length = 100 of the 200 bytes): it says
// which, numbers positions as in the text, and a link outside it gets a notice. It saves a
// screenshot, viewer.png, beside viewer.html. Skipped (with the reason printed) where no
// chromium exists: CHROMIUM_PATH, else chromium / chromium-browser on the PATH.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { carrierNaive } from '../../lib/analysis/carrier.ts';
import { STAGES } from '../../pipeline.ts';
import { copyProject } from '../helpers/project.ts';
import { findChromium, launchChromium } from './chromium.ts';
import { interactivePlotsHtml } from '../../lib/report/interactive.ts';
import { plotSpecs, type PlotData } from '../../lib/report/plot-data.ts';
import { readVegaBundles, vegaBundleFiles } from '../../lib/report/viewer/libs.ts';

const found = findChromium();
if (!('path' in found)) console.log(`skipping the browser test: ${found.reason}`);

const H = 16;
const TEXT = '<page><title>The cat</title>\n<text>the cat sat on the mat; the rat ran at the cat.</text></page>\n'.repeat(3).slice(0, 200);

/** Weights in the authors' layout from a fixed-seed generator (a model that is not trained). */
function syntheticWeights(h: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = new Float32Array(paramCount(h));
  const nx = h * 256;
  const nh = h * h;
  for (let i = 0; i < w.length; i++) w[i] = rand() * (i < nx ? 2 : i < nx + nh ? 0.6 : i < nx + nh + h ? 0.2 : 1.5);
  return w;
}


/** A page that records console errors and refuses every request but file: ones. */
async function offlinePage(browser: Awaited<ReturnType<typeof launchChromium>>) {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  return { page, errors };
}
describe.skipIf(!('path' in found))('viewer.html in chromium', () => {
  let dir: string;
  let html: string;
  let dec: any;
  let psCount: number[];
  let trace: { S: Float32Array; logp: Float64Array };
  let patternTables: any;
  let carriers: Float64Array;
  let carrierLogit: Float64Array;
  let windowHtml: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    dir = copyProject();
    const weights = path.join(dir, 'synthetic-h16.bin');
    fs.writeFileSync(weights, syntheticWeights(H, 7));
    const text = path.join(dir, 'synthetic.txt');
    fs.writeFileSync(text, TEXT);
    const p = await Pipeline.load({ root: dir, stageFiles: STAGES, env: {} });
    const overrides = { model: { source: weights, hidden: H }, data: { path: text, bytes: TEXT.length } };
    const { entries } = await p.build(['viewer', 'decomposition', 'carrier-pattern', 'trace', 'pattern-tables'], { overrides });
    const tr = await p.output(entries.trace);
    trace = { S: tr.tensors.S.data as Float32Array, logp: tr.tensors.logp.data as Float64Array };
    patternTables = (await p.output(entries['pattern-tables'])).json;
    html = path.join(p.reportsDir, (await p.output(entries.viewer)).json.file);
    dec = (await p.output(entries.decomposition)).json;
    psCount = (await p.output(entries['carrier-pattern'])).json.psCountPerUnit;
    carrierLogit = (await p.output(entries.decomposition)).tensors.carrierLogit.data as Float64Array;
    carriers = carrierNaive(weightsFrom(syntheticWeights(H, 7), H), trace.S, TEXT.length);
    // the same model and text, a page holding bytes 50..149 (in another report folder: its label names the window)
    const win = await p.build(['viewer'], { overrides: { ...overrides, viewer: { offset: 50, length: 100 } } });
    windowHtml = path.join(p.reportsDir, (await p.output(win.entries.viewer)).json.file);
    browser = await launchChromium((found as { path: string }).path);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens from a file URL with no console error and no network request, shows t = 29 and unit 8', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    const network: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith('file:')) network.push(`failed ${r.url()}`);
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      network.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-ready="1"]');

    // position 29: the decomposition stage's own numbers, as the report prints them
    expect(dec.position).toBe(29);
    await page.click('#strip [data-t="29"]');
    expect(await page.textContent('#pos-t')).toBe('29');
    const logit = (x: number) => `${x > 0 ? '+' : ''}${x.toFixed(3)}`;
    expect(await page.textContent('#carrier-logit')).toBe(logit(dec.carrierLogit));
    expect(await page.textContent('#pattern-logit')).toBe(logit(dec.patternLogit));
    expect(await page.textContent('#total-logit')).toBe(logit(dec.totalLogit));
    expect(await page.textContent('#ps-count')).toBe(String(dec.psUnits));

    // ← / → move between positions; the influence chart is drawn where eq. 7 was computed
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#pos-t')).toBe('30');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    expect(await page.textContent('#pos-t')).toBe('28');
    await page.click('#strip [data-t="120"]');
    await page.waitForSelector('#influence svg .mark-rect path');

    // unit 8: its PS count from the carrier-pattern stage
    await page.selectOption('#unit', '8');
    expect(await page.textContent('#unit-ps-count')).toBe(String(psCount[8]));
    expect(await page.inputValue('#quantity')).toBe('unitState');

    await page.screenshot({ path: path.join(path.dirname(html), 'viewer.png') });
    expect(fs.statSync(path.join(path.dirname(html), 'viewer.png')).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    await page.close();
  }, 60_000);

  it('the new panels: top-k next bytes, heat map, top contexts, pattern table in words, two units side by side, deep links', async () => {
    const { page, errors } = await offlinePage(browser);
    const T = TEXT.length - 1;

    // a deep link to t = 29 and unit 8
    await page.goto(`${pathToFileURL(html).href}#t=29&unit=8`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.textContent('#pos-t')).toBe('29');
    expect(await page.inputValue('#unit')).toBe('8');
    expect(await page.isHidden('#notice')).toBe(true);

    // top-k: the most probable next byte's probability, from the trace's log p at t = 29
    let best = -Infinity;
    for (let o = 0; o < 256; o++) best = Math.max(best, trace.logp[29 * 256 + o]);
    expect(await page.textContent('#topk-p0')).toBe(Math.exp(best).toFixed(4));

    // top contexts of h8 by state: the first position whose (int8-quantized) S[t][8] is furthest from its mean
    const q = (t: number) => Math.max(-127, Math.min(127, Math.round(trace.S[t * H + 8] * 127)));
    let mean = 0;
    for (let t = 0; t < T; t++) mean += q(t) / T;
    let top = 0;
    for (let t = 1; t < T; t++) if (Math.abs(q(t) - mean) > Math.abs(q(top) - mean)) top = t;
    expect(await page.getAttribute('#contexts a[data-t]', 'data-t')).toBe(String(top));

    // the heat map sorted by PS count: the unit with the most PS positions first
    await page.selectOption('#hm-sort', 'ps');
    const most = psCount.indexOf(Math.max(...psCount));
    expect((await page.getAttribute('#heatmap', 'data-order'))!.split(',')[0]).toBe(String(most));
    const box = (await page.locator('#heatmap').boundingBox())!;
    await page.locator('#heatmap').click({ position: { x: box.width * (40.5 / TEXT.length), y: 1 } });
    expect(await page.textContent('#pos-t')).toBe('40');
    expect(await page.inputValue('#unit')).toBe(String(most));

    // the carrier view: c_t[j] = Wh·S[t-1] + bh from the model and the trace; sorted by its
    // value at the selected position (t = 40), the largest carrier there comes first
    await page.selectOption('#hm-what', 'carrier');
    await page.selectOption('#hm-sort', 'at');
    expect(await page.getAttribute('#heatmap', 'data-what')).toBe('carrier');
    const at40 = Array.from({ length: H }, (_, j) => carriers[40 * H + j]);
    const first = at40.indexOf(Math.max(...at40));
    expect((await page.getAttribute('#heatmap', 'data-order'))!.split(',')[0]).toBe(String(first));
    expect(await page.textContent('#hm-legend')).toMatch(/carrier/);
    await page.locator('#heatmap').hover({ position: { x: box.width * (40.5 / TEXT.length), y: 1 } });
    const info = (await page.textContent('#hm-info'))!;
    expect(info).toMatch(new RegExp(`^h${first} at t = 40 `));
    expect(Number(info.match(/carrier c = (-?[\d.]+)/)![1])).toBeCloseTo(carriers[40 * H + first], 2);
    expect(Number(await page.textContent('#unit-carrier'))).toBeCloseTo(carriers[40 * H + most], 2); // the unit card (unit `most`, picked by the click above)

    // two units side by side
    await page.selectOption('#unit2', '3');
    expect(await page.locator('#unit-panel .card').count()).toBe(2);
    expect(await page.textContent('#unit2-ps-count')).toBe(String(psCount[3]));

    // the pattern table of a tabulated unit, with words for headers
    const u = patternTables.units[0];
    await page.goto(`${pathToFileURL(html).href}#t=5&unit=${u.unit}`);
    await page.waitForSelector('body[data-ready="1"]');
    const heads = await page.locator('#pattern-table th').allTextContents();
    expect(heads.slice(0, 3)).toEqual(['prefix cell', 'mean carrier ĉ', 'positions']);
    expect(await page.textContent('#pattern-table tr:nth-child(2) td:nth-child(3)')).toBe(String(u.rows[0].positions));
    expect(await page.innerText('body')).not.toMatch(/_\{|psCount|onCount|"chat"/);

    // a link past the end: a notice, and the last position
    await page.goto(`${pathToFileURL(html).href}#t=99999&unit=999`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.textContent('#notice')).toMatch(new RegExp(`t = 99999, past the end of the text: it has ${TEXT.length} bytes.*t = ${T - 1}.*units h0\\.\\.h${H - 1}`));
    expect(await page.textContent('#pos-t')).toBe(String(T - 1));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a window of the text: says which, numbers positions as in the text, and a link outside it gets a notice', async () => {
    const { page, errors } = await offlinePage(browser);
    const url = pathToFileURL(windowHtml).href;

    await page.goto(`${url}#t=120`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.textContent('#window')).toMatch(/^A window of the text: bytes 50\.\.149 of 200 \(positions t = 50\.\.148\)/);
    expect(await page.locator('#strip .b').count()).toBe(100);
    expect(await page.getAttribute('#strip .b >> nth=0', 'data-t')).toBe('50');
    expect(await page.isHidden('#notice')).toBe(true);
    // t = 120 of the text, with the decomposition stage's number at that position
    expect(await page.textContent('#pos-t')).toBe('120');
    expect(await page.textContent('#carrier-logit')).toBe(`${carrierLogit[120] > 0 ? '+' : ''}${carrierLogit[120].toFixed(3)}`);
    await page.click('#strip [data-t="60"]');
    expect(await page.textContent('#pos-t')).toBe('60');
    expect(new URL(page.url()).hash).toBe('#t=60');

    // before the window (the paper's t = 29) and after it: a notice naming the window, the nearest end shown
    await page.goto(`${url}#t=29`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.textContent('#notice')).toMatch(/t = 29, outside the window this page holds \(positions t = 50\.\.148 of the 200-byte text\)\. Showing t = 50\. To see it, build the viewer with --set viewer\.offset=0\./);
    expect(await page.textContent('#pos-t')).toBe('50');
    await page.goto(`${url}#t=170`);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.textContent('#notice')).toMatch(/t = 170, outside the window .* Showing t = 148\./);
    expect(await page.textContent('#pos-t')).toBe('148');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the interactive plots page draws every chart with tooltips, offline, with no console message', async () => {
    const data: PlotData = {
      curve: { label: 'seed 1', epoch: [1, 2, 3, 4], trainBpc: [6, 3, 1, 0.5], evalEpoch: [2, 4], evalBpc: [3.5, 0.7] },
      influence: Array.from({ length: 10 }, (_, d) => ({ d, signed: 1 / (d + 1), unsigned: 1.2 })),
      zHistogram: [{ lo: 0, hi: 1, count: 5000 }, { lo: 1, hi: 2, count: 30 }, { lo: 2, hi: null, count: 2 }],
      pairCounts: [{ pair: '(1, 7)', neurons: 5, meanR2: 0.8 }, { pair: 'other', neurons: 3, meanR2: 0.7 }],
      psPerUnit: Array.from({ length: 16 }, (_, unit) => ({ unit, count: (unit * 5) % 17 })),
      marks: { checkpoint: 3, paperFinalBpc: 0.079, margin: 1, meanAbsZ: 0.9, paperMeanAbsZ: 60.5, psTop: [{ unit: 3, count: 15 }] },
    };
    const specs = plotSpecs(data);
    const files = Object.fromEntries(vegaBundleFiles().map((f) => [f.name, f]));
    const file = path.join(dir, 'interactive.html');
    fs.writeFileSync(file, interactivePlotsHtml('test', specs, await readVegaBundles(files)));
    const page = await browser.context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(e.message));
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (messages.push(route.request().url()), route.abort())));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.locator('.chart svg.marks').count()).toBe(specs.length);
    await page.hover('#chart-pair-counts .mark-rect path');
    await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
    expect(await page.textContent('#vg-tooltip-element')).toContain('(1, 7)');
    expect(messages).toEqual([]);
    await page.close();
  }, 60_000);
});

