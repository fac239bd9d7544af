// Paper §6.2, open question 4, first half (SPEC §6.3): descriptions of what the model
// computes, of increasing detail: `marginal` (nothing learned), one `rules_<set>` level per
// SPEC §6.1 feature set whose feature units fit in H (feature definitions, each described unit's cell carriers from
// `timing-carrier` and its pattern table as Wx bins, units chosen by their PS count from
// `pattern-tables`), and `full` (every weight). Each description is a JSON document,
// stored as UTF-8 bytes in the tensor desc_<level>; `rebuild` reads only these and the data.
// Kernels: lib/analysis/describe.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/describe.params.ts';


export default defineStage<Params>({
  name: 'describe',
  description: 'Q4: descriptions of the model from marginal to full, as JSON documents',
  section: '§6.2',
  inputs: ['model', 'data', 'timing-carrier', 'pattern-tables'],
  async run({ params, inputs }) {
    const { bytesOf, weightsOf } = await import('../lib/rnn/io.ts');
    const tc = await import('../lib/analysis/timing-carrier.ts');
    const ds = await import('../lib/analysis/describe.ts');
    const w = weightsOf(inputs.model);
    const xs = bytesOf(inputs.data);
    const tcj = inputs['timing-carrier'].json;
    const psCount = inputs['pattern-tables'].json.psCountPerUnit as number[];
    if (tcj.H !== w.H || tcj.N !== xs.length || psCount.length !== w.H) {
      throw new Error(`stage describe: timing-carrier (H=${tcj.H}, N=${tcj.N}) and pattern-tables (H=${psCount.length}) do not match the model (H=${w.H}) and data (N=${xs.length})\nhint: re-run them on the same model and data`);
    }
    const P = xs.length - 1;
    const f = tc.prefixFeatures(xs, tcj.wordLenCap);
    const seen = tc.seenBytes(xs);
    // The model's units, most pattern-sensitive first (ties: lower index).
    const order = [...psCount.keys()].sort((a, b) => psCount[b] - psCount[a] || a - b);
    const docs = [ds.describeMarginal(w.H)];
    for (const set of tc.FEATURE_SETS) {
      // A level a rebuild cannot realise (more feature units than H) is not written.
      if (ds.featureUnitCount(set, tcj.wordLenCap, ds.byteClassesOf(xs, params.classes).length) > w.H) continue;
      const id = tc.setId(set);
      const ids = inputs['timing-carrier'].tensors[`cells_${id}`].data as Int32Array;
      const chat = inputs['timing-carrier'].tensors[`chat_${id}`].data as Float64Array;
      const nCells = chat.length / w.H;
      const first = new Int32Array(nCells).fill(-1);
      for (let t = 0; t < P; t++) if (first[ids[t]] < 0) first[ids[t]] = t;
      const opts = { wordLenCap: tcj.wordLenCap, classes: params.classes, digits: params.digits };
      docs.push(ds.describeRules(w, xs, f, set, { ids, nCells, first }, chat, order, seen, opts));
    }
    docs.push(ds.describeFull(w));
    const enc = new TextEncoder();
    const tensors: Record<string, any> = {};
    const levels = docs.map((d) => {
      const s = ds.sizeOf(d);
      const bytes = enc.encode(s.text);
      tensors[`desc_${d.header.level}`] = { dtype: 'uint8', shape: [bytes.length], data: bytes };
      return { level: d.header.level as string, set: (d.header.set as string) ?? null, bytes: s.bytes, numbers: s.numbers };
    });
    return { json: { H: w.H, N: xs.length, levels }, tensors };
  },
});
