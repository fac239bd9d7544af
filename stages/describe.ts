// Paper §6.2, open question 4, first half (docs/definitions.md §6.3): descriptions of what
// the model computes, of increasing detail, from which `rebuild` writes every weight back
// with nothing else to read. Whatever a rebuild needs from the data is in them, counted:
//   marginal          the counts of the target bytes (by = their logs);
//   rules_<set>       one per §6.1 feature set whose feature units fit in H: feature
//                     definitions, each described unit's cell carriers (timing-carrier)
//                     and its pattern table as Wx bins (units chosen by their PS count from
//                     pattern-tables), the cells' sizes, the seen bytes, and the model's
//                     own readout of the described units, rounded;
//   rules_<set>_fit   (with describe.cellsFit) the same states, with a readout fitted here
//                     on the rebuilt states and written, rounded, into the description;
//   rules_<set>_linear  each described unit's carrier as a rule of the features (the row
//                     the cell-carrier fit gives) and its Wx on the seen bytes, no cells,
//                     with a readout fitted on those states;
//   full              every weight.
// Each description is canonical JSON, stored as UTF-8 bytes in the tensor desc_<level>,
// sized in free numbers, bytes and bits (8 × gzip level 9). describe.file replaces the
// computed description of its level by one from a file (e.g. edited by hand); it is
// checked like every description when the build is planned, and a bad one is a usage error
// before anything runs.
// Kernels: lib/analysis/describe.ts, lib/analysis/rebuild.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineStage } from '../lib/engine/types.ts';
import { parseDescription } from '../lib/analysis/description-check.ts';
import type { Params } from '../schemas/describe.params.ts';

export default defineStage<Params>({
  name: 'describe',
  description: 'Q4: descriptions of the model from marginal to full, as JSON documents sized in bits',
  section: '§6.2',
  inputs: ['model', 'data', 'timing-carrier', 'pattern-tables'],
  expectSeconds: 1.3,
  keyParams: (p) => (p.file ? { ...p, file: `file:${path.basename(p.file)}` } : p),
  // A hand-edited description is checked when the build is planned: a bad one is a usage
  // error before anything runs (a missing file is the engine's to report).
  externals(p) {
    if (!p.file) return [];
    const file = path.resolve(p.file);
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // reported by the engine as a missing external, with the hint below
    }
    if (text !== null) parseDescription(text, path.basename(file));
    return [{ name: 'description', path: file, hint: 'describe.file names a description JSON file (e.g. one describe wrote, edited by hand); leave it empty for none' }];
  },
  async run({ params, inputs, externals, progress }) {
    const { bytesOf, weightsOf } = await import('../lib/rnn/io.ts');
    const tc = await import('../lib/analysis/timing-carrier.ts');
    const ds = await import('../lib/analysis/describe.ts');
    const rb = await import('../lib/analysis/rebuild.ts');
    const { positionBlocks } = await import('../lib/analysis/position-blocks.ts');
    const w = weightsOf(inputs.model);
    const xs = bytesOf(inputs.data);
    const tcj = inputs['timing-carrier'].json;
    const psCount = inputs['pattern-tables'].json.psCountPerUnit as number[];
    if (tcj.H !== w.H || tcj.N !== xs.length || psCount.length !== w.H) {
      throw new Error(`stage describe: timing-carrier (H=${tcj.H}, N=${tcj.N}) and pattern-tables (H=${psCount.length}) do not match the model (H=${w.H}) and data (N=${xs.length})\nhint: re-run them on the same model and data`);
    }
    // a hand-edited description is checked before anything is computed
    const file = externals.description?.path;
    const edited = file ? ds.parseDescription(readFileSync(file, 'utf8'), path.basename(file)) : null;
    const P = xs.length - 1;
    const f = tc.prefixFeatures(xs, tcj.wordLenCap);
    const seen = tc.seenBytes(xs);
    // The model's units, most pattern-sensitive first (ties: lower index).
    const order = [...psCount.keys()].sort((a, b) => psCount[b] - psCount[a] || a - b);
    // the full level first: its gzip (the largest) runs on the thread pool while the rule
    // levels' readouts are fitted below
    const full = ds.describeFull(w);
    const fullSize = ds.sizeOfAsync(full);
    // every other level's gzip starts as soon as the level is written, on the thread pool
    // beside the next set's readout fit (a level a hand-edited description replaces is not sized)
    const sizing = new Map<object, ReturnType<typeof ds.sizeOfAsync>>();
    const push = (d: ReturnType<typeof ds.describeMarginal>) => {
      docs.push(d);
      if (d.header.level !== edited?.header.level) sizing.set(d, ds.sizeOfAsync(d));
    };
    const docs: ReturnType<typeof ds.describeMarginal>[] = [];
    push(ds.describeMarginal(w.H, xs));
    const opts = { wordLenCap: tcj.wordLenCap, classes: params.classes, digits: params.digits, readoutDigits: params.readoutDigits, rebuild: { gain: params.gain, margin: params.margin, ridge: params.ridge } };
    // above maxPositions positions the readout fits use evenly spread blocks of them
    const sample = { maxPositions: params.maxPositions, blockLength: params.blockLength };
    const pb = positionBlocks(0, xs.length - 2, params.maxPositions, params.blockLength);
    const fitSample = { sampled: pb.sampled, count: pb.count, of: pb.of, blocks: pb.blocks.length, blockLength: pb.blocks[0][1] - pb.blocks[0][0] + 1, maxPositions: params.maxPositions };
    const sets = tc.FEATURE_SETS.filter((set) => ds.featureUnitCount(set, tcj.wordLenCap, ds.byteClassesOf(xs, params.classes).length) <= w.H);
    sets.forEach((set, i) => {
      progress(i, sets.length, `rules_${tc.setId(set)}`);
      const id = tc.setId(set);
      const ids = inputs['timing-carrier'].tensors[`cells_${id}`].data as Int32Array;
      const chat = inputs['timing-carrier'].tensors[`chat_${id}`].data as Float64Array;
      const nCells = chat.length / w.H;
      const first = new Int32Array(nCells).fill(-1);
      for (let t = 0; t < P; t++) if (first[ids[t]] < 0) first[ids[t]] = t;
      const d = ds.describeRules(w, xs, f, set, { ids, nCells, first }, chat, order, seen, opts);
      push(d);
      if (params.fitSteps > 0) {
        if (params.cellsFit) push(rb.withFittedReadout(d, xs, params.fitSteps, params.fitDigits, sample));
        push(rb.linearForm(d, xs, params.fitSteps, params.rowDigits, params.wxDigits, params.fitDigits, sample));
      }
    });
    docs.push(full);
    if (edited) {
      const at = docs.findIndex((d) => d.header.level === edited.header.level);
      if (at < 0) throw new Error(`stage describe: ${path.basename(file!)} describes level "${edited.header.level}", which this run does not write (${docs.map((d) => d.header.level).join(', ')})\nhint: edit a description of one of those levels`);
      if (edited.header.H !== w.H) throw new Error(`stage describe: ${path.basename(file!)} has H = ${edited.header.H}, the model ${w.H}\nhint: edit a description written for this model`);
      docs[at] = edited;
    }
    const sizes = await Promise.all(docs.map((d) => (d === full ? fullSize : sizing.get(d) ?? ds.sizeOfAsync(d))));
    if (!docs.includes(full)) await fullSize; // replaced by an edited description: let it finish
    const tensors: Record<string, any> = {};
    const levels = docs.map((d, i) => {
      const s = sizes[i];
      tensors[`desc_${d.header.level}`] = { dtype: 'uint8', shape: [s.utf8.length], data: s.utf8 };
      const ro = d.header.readout?.source;
      return { level: d.header.level as string, set: (d.header.set as string) ?? null, readout: ro ?? null, bytes: s.bytes, numbers: s.numbers, bits: s.bits, edited: d === edited };
    });
    return { json: { H: w.H, N: xs.length, compressor: ds.COMPRESSOR, fitSample, levels }, tensors };
  },
});
