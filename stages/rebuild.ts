// Paper §6.2, open question 4, second half (docs/definitions.md §6.3): write every weight of
// an Elman RNN of the same shape from each description ALONE. describe's output is the one
// declared input (test/stages/s6-dag.test.ts checks the graph): this stage reads no data,
// no model, and fits nothing to next bytes; whatever a level needs is in its description.
// Each description is read back through the same checks describe applies (valid JSON,
// finite numbers, the shapes its rebuild reads). Scoring is rebuild-score's.
// Kernels: lib/analysis/rebuild.ts.
import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/rebuild.params.ts';

export default defineStage<Params>({
  name: 'rebuild',
  description: 'Q4: every weight written back from each description alone (tensors params_<level>)',
  section: '§6.2',
  inputs: ['describe'],
  expectSeconds: 0.2,
  async run({ inputs, progress }) {
    const ds = await import('../lib/analysis/describe.ts');
    const rb = await import('../lib/analysis/rebuild.ts');
    const dec = new TextDecoder();
    const tensors: Record<string, any> = {};
    const all = inputs.describe.json.levels as { level: string; set: string | null; readout: string | null; bytes: number; numbers: number; bits: number; edited: boolean }[];
    const levels = all.map((l, i) => {
      progress(i, all.length, l.level);
      const t = inputs.describe.tensors[`desc_${l.level}`];
      if (!t) throw new Error(`stage rebuild: describe has no tensor desc_${l.level}\nhint: re-run describe: npx tsx pipeline.ts run describe --force describe`);
      const d = ds.parseDescription(dec.decode(t.data as Uint8Array), l.level);
      const r = rb.rebuildFrom(d);
      tensors[`params_${l.level}`] = { dtype: 'float32', shape: [r.w.params.length], data: r.w.params };
      return { ...l, unitMap: r.unitMap };
    });
    return { json: { H: inputs.describe.json.H, compressor: inputs.describe.json.compressor, levels }, tensors };
  },
});
