// docs/definitions.md §1-2: the model every analysis reads. Either the train stage's best checkpoint
// (model.source = "train"), the paper's own weights by name (model.source = "paper":
// sat_model.bin from the authors' repository, pinned by sha256; lib/data/paper-weights.ts),
// or a weights file in the authors' layout (model.source = a path). Importing declares no
// upstream at all, so it can never trigger training.
//
// Keyed by content: imported weights are an external file whose sha256 is the key, never
// its folder or its name, so "paper", a path to sat_model.bin and a renamed copy of it are
// one key (model.source enters keys as "import"). The paper's file is pinned by its sha256
// (lib/data/inputs.ts), so it need not be on disk to plan; where it was found (download
// folder, or TOTAL_INTERP_PAPER_WEIGHTS) stays out of the key. The output holds the weights
// and their sha256; the name ("paper:sat_model.bin" or the file's basename) is provenance.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineStage, type Tensor } from '../lib/engine/types.ts';
import { PAPER_WEIGHTS_ENV, PAPER_WEIGHTS_NAME, PAPER_WEIGHTS_SHA256 } from '../lib/data/inputs.ts';
import type { Params } from '../schemas/model.params.ts';

export default defineStage<Params>({
  name: 'model',
  description: 'the weights to analyse: the train stage\'s best checkpoint, the paper\'s weights ("paper"), or a weights file',
  section: '§2',
  // Imported weights enter keys by their content (the external), not their folder or name.
  keyParams: (p) => (p.source === 'train' ? p : { ...p, source: 'import' }),
  // Any source but the two names is a path.
  fileParams: (p) => (p.source === 'train' || p.source === 'paper' ? [] : ['source']),
  inputs: (p) => (p.source === 'train' ? ['train'] : []),
  pathEnv: PAPER_WEIGHTS_ENV,
  // The download (if any) happens before the build starts: offline, nothing is cached.
  async prepare(p, env) {
    if (p.source === 'paper') await (await import('../lib/data/paper-weights.ts')).fetchPaperWeights(env);
  },
  externals: (p) =>
    p.source === 'train'
      ? []
      : p.source === 'paper'
        ? // Pinned: fetched by prepare, read and hash-checked by fetchPaperWeights in run.
          [{ name: 'weights', path: '', sha256: PAPER_WEIGHTS_SHA256, display: PAPER_WEIGHTS_NAME }]
        : [
          {
            name: 'weights',
            path: path.resolve(p.source),
            hint: 'set model.source to "paper" (the authors\' sat_model.bin, fetched once), to a weights file in the authors\' layout, or to "train"',
          },
        ],
  tensors: ['params'],
  async run({ params, inputs, externals, env, progress }) {
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
      const { bestEvalBpc, finalEvalBpc, epochs, optimizer, seed, bestEpoch, kernel, bptt, curve, init, recipe, predictions, epochsFrom, heldout, converged } = t.json;
      const tensors: Record<string, Tensor> = { params: { dtype: 'float32', shape: [paramCount(H)], data: w.data as Float32Array } };
      if (t.tensors.curveTrainBpc) tensors.curveTrainBpc = t.tensors.curveTrainBpc;
      return {
        json: {
          source: 'train',
          H,
          paramCount: paramCount(H),
          // the held-out curve and the convergence flag travel too (docs/definitions.md §6.4)
          train: { bestEvalBpc, finalEvalBpc, epochs, optimizer, seed, bestEpoch, kernel, bptt, curve, init, recipe, predictions, epochsFrom, heldout: heldout ?? null, converged: converged ?? null },
        },
        tensors,
      };
    }
    let bytes: Uint8Array;
    let name: string;
    let where: string;
    if (params.source === 'paper') {
      const { fetchPaperWeights } = await import('../lib/data/paper-weights.ts');
      const got = await fetchPaperWeights(env, { onProgress: (done, total) => progress(done, total || done, 'downloading sat_model.bin') });
      bytes = got.bytes;
      name = where = PAPER_WEIGHTS_NAME;
    } else {
      const file = externals.weights?.path ?? path.resolve(params.source);
      bytes = new Uint8Array(readFileSync(file));
      name = path.basename(file);
      where = file; // an error may name the path; outputs never do
    }
    const w = parseWeightsFile(bytes, params.hidden, where);
    return {
      json: { source: 'import', sha256: createHash('sha256').update(bytes).digest('hex'), H: w.H, paramCount: w.params.length },
      provenance: { name },
      tensors: { params: { dtype: 'float32', shape: [w.params.length], data: w.params } },
    };
  },
});
