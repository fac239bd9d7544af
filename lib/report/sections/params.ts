// Report section for paper §2: the model's params and its training summary.
// Data from the `data` and `model` stages (model carries the training summary when it
// was trained here; imported weights carry none).
import type { StageOutput } from '../../engine/types.ts';
import type { SectionPart, TableSpec } from '../types.ts';

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const data = inputs.data.json;
  const m = inputs.model.json;
  const tr = m.train;
  const imported = m.source === 'import';
  const dp = (inputs.data.provenance ?? {}) as { source?: string; name?: string };
  const mp = (inputs.model.provenance ?? {}) as { name?: string };
  const params: TableSpec = {
    id: 'params',
    title: 'Model and training parameters',
    section: '§2',
    // Names are provenance (the run that built the input named them), not content: they go
    // in the table's description, where diff does not look, and the rows hold hashes.
    positions: `data: ${data.bytes} bytes (${dp.source ?? 'file'}: ${dp.name ?? 'unknown'})${imported ? `; weights: ${mp.name ?? 'unknown'}` : ''}`,
    columns: [
      { key: 'param', label: 'Parameter' },
      { key: 'value', label: 'Value' },
    ],
    rows: [
      { param: 'Data bytes N', value: data.bytes },
      { param: 'Data sha256', value: String(data.sha256).slice(0, 16) },
      { param: 'Weights', value: imported ? `imported: sha256 ${String(m.sha256).slice(0, 16)}` : 'trained by this pipeline' },
      { param: 'Hidden units H', value: { ours: m.H, ref: 'hidden' } },
      { param: 'Parameters', value: { ours: m.paramCount, ref: 'params_total' } },
      { param: 'Epochs', value: tr ? { ours: tr.epochs, ref: 'epochs' } : null },
      { param: 'BPTT length', value: tr?.bptt !== undefined ? { ours: tr.bptt, ref: 'bptt' } : null },
      { param: 'Optimizer', value: tr ? tr.optimizer : null },
      ...(tr?.init ? [{ param: 'Init PRNG', value: tr.init }] : []),
      ...(tr?.optimizer === 'adam' ? [{ param: 'Learning rate', value: { ours: 0.001, ref: 'lr', digits: 3 } }] : []),
      ...(tr?.recipe?.lrSchedule && tr.optimizer !== 'adam' ? [{ param: 'Learning rate', value: tr.recipe.lrSchedule }] : []),
      { param: 'Seed', value: tr ? { ours: tr.seed, ref: 'seed' } : null },
    ],
    notes: imported ? ['Imported weights: the training parameters are the authors\' and are not known to this run.'] : tr ? [recipeNote(tr)] : [],
    provenance: { stage: 'model', key: inputs.model.key },
  };
  const tables: TableSpec[] = [params];
  if (tr) {
    tables.push({
      id: 'training',
      title: 'Training summary',
      section: '§2',
      positions: 'eval bpc over all N-1 positions, floor 1e-8; best = checkpoint kept by the best-train-bpc rule (docs/definitions.md §2)',
      columns: [
        { key: 'quantity', label: 'Quantity' },
        { key: 'value', label: 'Value' },
      ],
      rows: [
        { quantity: 'Recipe', value: tr.recipe?.name ?? tr.optimizer },
        { quantity: 'Optimizer', value: tr.optimizer },
        ...(tr.init ? [{ quantity: 'Init PRNG', value: tr.init }] : []),
        { quantity: 'Epochs', value: tr.epochsFrom === 'predictions' ? `${tr.epochs} (from train.predictions)` : tr.epochsFrom === 'minEpochs' ? `${tr.epochs} (train.minEpochs: more than train.predictions gives)` : tr.epochsFrom === 'heldout' ? `${tr.epochs} (stopped on the held-out curve, train.stopOnHeldout)` : tr.epochs },
        ...(tr.predictions ? [{ quantity: 'Predictions', value: tr.predictions }] : []),
        { quantity: 'Best epoch', value: tr.bestEpoch },
        { quantity: 'Best-checkpoint eval bpc', value: { ours: tr.bestEvalBpc, ref: 'trained_bpc' } },
        { quantity: 'Final eval bpc', value: { ours: tr.finalEvalBpc } },
        // The held-out curve (docs/definitions.md §6.4), when the data stage had held-out text.
        ...(tr.heldout
          ? [
              { quantity: `Held-out bpc of the best checkpoint (bytes [${tr.heldout.offset}, ${tr.heldout.offset + tr.heldout.bytes}))`, value: { ours: tr.heldout.checkpointBpc } },
              { quantity: 'Best held-out bpc along training (epoch)', value: `${tr.heldout.bestBpc.toFixed(4)} (epoch ${tr.heldout.bestEpoch} of ${tr.epochs})` },
              {
                quantity: 'Converged (best held-out bpc improved by < 0.01 over the last quarter)',
                value: `${tr.converged ? 'yes' : 'no'} (improved by ${Number(tr.heldout.improvementLastQuarter).toFixed(4)} after epoch ${tr.heldout.cutEpoch})`,
              },
            ]
          : []),
        ...(tr.kernel ? [{ quantity: 'Kernel', value: tr.kernel }] : []),
      ],
      provenance: { stage: 'model', key: inputs.model.key },
    });
  }
  return { tables, metrics: [] };
}

/** Which recipe ran, against the paper's text and the authors' released trainer (docs/definitions.md §2). */
function recipeNote(tr: { optimizer?: string; init?: string }): string {
  const released = 'the authors\' released trainer (SGD, cosine lr, glibc srand(seed)/rand() init), which made the shipped weights';
  if (tr.optimizer === 'sgd' && tr.init === 'glibc') return `Recipe: ${released}. The paper's text says Adam (η = 0.001); \`--set train.optimizer=adam\` runs that instead.`;
  if (tr.optimizer === 'adam') return `Recipe: Adam (η = 0.001), as the paper's text says. The shipped weights were made by ${released}: \`--set train.optimizer=sgd --set train.init=glibc\` (the default) runs it.`;
  return `Recipe: ${tr.optimizer} with the ${tr.init ?? 'mulberry32'} init. The shipped weights were made by ${released} (the default).`;
}
