// The per-position viewer: reports/<label>/viewer.html, one self-contained file
// (data embedded as JSON; vega, vega-lite and vega-embed inlined) that opens from disk
// with no server and no network. It shows, along the text, what the §5 stages computed
// at every position: bits, carrier-only bits, pattern gain, PS units, the §5.4
// decomposition and the eq. 7 influence of the previous bytes; and per unit its state, its
// carrier c_t = Wh·S[t-1] + bh (eq. 5, computed here from the model and the trace by the
// carrier-pattern stage's kernel, which stores only the PS mask it derives from it), Table 1
// pair, PS count and (when the §6.2 stage has run) its pattern table.
//
// The page embeds a window of the text, viewer.offset and viewer.length (default: the first
// 4 KiB), and says which: a page with every position of a long text would be huge.
//
// The label is the report's (same folder as report.md): report.label when set, else the
// label derived from the model, data and overrides, so the stage sees the overrides.
// The three library bundles are declared externals: the only files this stage reads, and
// their content is in the key.
import { vegaBundleFiles } from '../lib/report/viewer/libs.ts';
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/viewer.params.ts';


/** Optional upstream: read when it is among the inputs (the §6.2 pattern tables). */
const PATTERN_TABLES = 'pattern-tables';

export default defineStage<Params>({
  name: 'viewer',
  description: 'writes reports/<label>/viewer.html: the text, position by position, with the §5 decomposition',
  section: '§5',
  inputs: ['data', 'model', 'trace', 'factor-map', 'carrier-pattern', 'influence', 'decomposition', PATTERN_TABLES],
  expectSeconds: 0.2,
  overrides: true,
  externals: () => vegaBundleFiles(),
  async run({ params, inputs, externals, overrides = {} }) {
    const { readVegaBundles } = await import('../lib/report/viewer/libs.ts');
    const { reportLabel } = await import('../lib/report/build.ts');
    const { viewerData } = await import('../lib/report/viewer/data.ts');
    const { viewerHtml } = await import('../lib/report/viewer/html.ts');
    const { fromKernel, fromStage } = await import('../lib/report/viewer/decomposition.ts');
    const { bytesOf, traceOf, weightsOf } = await import('../lib/rnn/io.ts');
    const { carrier } = await import('../lib/analysis/carrier.ts');

    const label = (overrides.report?.label as string | undefined) ?? reportLabel(inputs, overrides);
    const xs = bytesOf(inputs.data);
    const w = weightsOf(inputs.model);
    const tr = traceOf(inputs.trace);
    const N = xs.length;
    const H = w.H;
    const cp = inputs['carrier-pattern'];
    const ps = cp.tensors.ps.data as Uint8Array;
    // The decomposition stage's per-position tensors; from an older entry without them (or
    // another top-k), the same kernel here.
    const dec = fromStage(inputs.decomposition, Math.max(0, N - 1)) ?? fromKernel((await import('../lib/analysis/decomposition.ts')).decompose(w, xs, params.topUnits), params.topUnits);

    const fm = inputs['factor-map'];
    const bestPair = fm.tensors.bestPair.data as Int32Array;
    const bestR2 = fm.tensors.bestR2.data as Float64Array;
    const pairs = Array.from(bestPair, (q, j) => {
      const pr = fm.json.pairs[q] as [number, number] | undefined;
      return pr ? { d1: pr[0], d2: pr[1], r2: bestR2[j] } : null;
    });
    const inf = inputs.influence;
    const data = viewerData({
      label,
      bytes: xs,
      H,
      S: tr.S,
      ps,
      actualBits: tr.bits,
      carrierOnlyBits: cp.tensors.carrierOnlyBits.data as Float64Array,
      decomposition: dec,
      influence: inf ? { firstT: inf.json.firstT, D: inf.json.maxOffset, values: inf.tensors.influence.data as Float64Array } : null,
      pairs,
      psCountPerUnit: cp.json.psCountPerUnit,
      position: Math.min(inputs.decomposition.json.position, Math.max(0, N - 2)),
      patternTables: inputs[PATTERN_TABLES]?.json ?? null,
      logp: tr.logp,
      carrier: carrier(w, tr.S, N),
      window: { offset: params.offset, length: params.length },
    });
    const html = viewerHtml(data, await readVegaBundles(externals));
    return {
      json: { label, file: `${label}/viewer.html`, bytes: Buffer.byteLength(html), decomposition: dec.source, patternTables: data.patternTables !== null, window: { offset: data.offset, length: data.N, textBytes: N } },
      artifacts: { [`${label}/viewer.html`]: html },
    };
  },
});
