// SPEC §1-2: the model every analysis reads. Either the train stage's best checkpoint
// (model.source = "train") or a weights file in the authors' layout (model.source = a
// path): importing declares no upstream at all, so it can never trigger training. This is
// how the pipeline checks itself against the paper's own weights (sat_model.bin).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineStage, type Tensor } from '../lib/engine/types.ts';
import type { Params } from '../schemas/model.params.ts';

export default defineStage<Params>({
  name: 'model',
  description: 'the weights to analyse: the train stage\'s best checkpoint, or an imported weights file',
  section: '§2',
  inputs: (p) => (p.source === 'train' ? ['train'] : []),
  externals: (p) =>
    p.source === 'train'
      ? []
      : [
          {
            name: 'weights',
            path: path.resolve(p.source),
            hint: 'set model.source to a weights file in the authors layout (e.g. ../shared/reference/sat_model.bin) or to "train"',
          },
        ],
  tensors: ['params'],
  async run({ params, inputs, externals }) {
    const { paramCount, parseWeightsFile } = await import('../lib/rnn/weights.ts');
    if (params.source === 'train') {
      const t = inputs.train;
      const H = t.json.hidden as number;
      const w = t.tensors.params;
      if (!w || w.dtype !== 'float32' || w.data.length !== paramCount(H)) {
        throw new Error(`model: the train output's params tensor is missing or not float32 [${paramCount(H)}] for H=${H}`);
      }
      // The training summary and curve travel with the model so the report can show them
      // (timings stay behind: they are volatile and would defeat early cutoff here).
      const { bestEvalBpc, finalEvalBpc, epochs, optimizer, seed, bestEpoch, kernel, bptt, curve } = t.json;
      const tensors: Record<string, Tensor> = { params: { dtype: 'float32', shape: [paramCount(H)], data: w.data as Float32Array } };
      if (t.tensors.curveTrainBpc) tensors.curveTrainBpc = t.tensors.curveTrainBpc;
      return {
        json: {
          source: 'train',
          H,
          paramCount: paramCount(H),
          train: { bestEvalBpc, finalEvalBpc, epochs, optimizer, seed, bestEpoch, kernel, bptt, curve },
        },
        tensors,
      };
    }
    const file = externals.weights?.path ?? path.resolve(params.source);
    const w = parseWeightsFile(new Uint8Array(readFileSync(file)), params.hidden, file);
    return {
      json: { source: 'import', path: file, H: w.H, paramCount: w.params.length },
      tensors: { params: { dtype: 'float32', shape: [w.params.length], data: w.params } },
    };
  },
});
