// Report section for the counting baseline (docs/definitions.md §6.5), shown with the §6.2
// answers: table kn (held-out bpc of byte-level interpolated Kneser–Ney per order, with
// the unigram base and a uniform guess), the metrics kn.k<k>.heldout_bpc, kn.best.heldout_bpc
// and kn.best.order, and a sentence from the numbers. Data from `kn`; with `model` and the
// data's held-out text, the sentence also puts the model's own held-out bpc beside KN's (a
// comparison in words: the metric for it belongs to the Q4 section).
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type MetricSpec, type SectionPart } from '../types.ts';
import { DEFAULT_FLOOR, bitsOf, forwardStates, readoutLogpRows } from '../../rnn/forward.ts';
import { forwardStatesDense } from '../../rnn/wasm-dense.ts';
import { heldoutOf, weightsOf } from '../../rnn/io.ts';
import { V } from '../../rnn/weights.ts';

interface KnOrder { k: number; heldout_bpc: number; contexts: number; patterns: number }
interface KnJson {
  N: number;
  heldout: { offset: number; bytes: number };
  positions: number;
  discount: number;
  unigram_heldout_bpc: number;
  orders: KnOrder[];
  best: { order: number; heldout_bpc: number };
}

/**
 * The model's bpc on the held-out text: float32 forward from S[-1] = 0 over the held-out
 * bytes alone, mean over t = 0..M−2 of −log2 max(p(h_{t+1}), 1e-8); null without a model
 * or held-out text. Training's own figure for its checkpoint when it scored the same block.
 */
export function modelHeldoutBpc(inputs: Record<string, StageOutput>): number | null {
  if (!inputs.model || !inputs.data?.tensors.heldout || inputs.data.tensors.heldout.data.length < 2) return null;
  const { bytes: hs, offset } = heldoutOf(inputs.data);
  // A model trained here scored its best checkpoint (the weights read here) on this block
  // with the same forward and readout (evalBpc): its figure, not a second pass over up to
  // 64 KiB, which a Q3 aggregate would pay for each of its 30 points at every rerun.
  const h = (inputs.model.json.train as { heldout?: { offset?: number; bytes?: number; checkpointBpc?: number } | null } | undefined)?.heldout;
  if (h && h.offset === offset && h.bytes === hs.length && typeof h.checkpointBpc === 'number') return h.checkpointBpc;
  const w = weightsOf(inputs.model);
  // the states from the WebAssembly kernel when it is there (the same bits), every row's
  // log softmax four rows at a time (readoutLogpRows: readoutLogp's bits)
  const { S } = forwardStatesDense(w, hs) ?? forwardStates(w, hs);
  const logp = new Float64Array(hs.length * V);
  readoutLogpRows(w, S, hs.length, logp);
  let bits = 0;
  for (let t = 0; t + 1 < hs.length; t++) bits += bitsOf(logp[t * V + hs[t + 1]], DEFAULT_FLOOR);
  return bits / (hs.length - 1);
}

/** KN's best held-out bpc against a uniform guess (8 bpc) and, when given, the model's own, in words. */
export function knWords(j: KnJson, model: number | null = null): string {
  const b = j.best;
  const top = j.orders[j.orders.length - 1];
  const saved = 8 - b.heldout_bpc;
  return [
    `Counting alone: Kneser–Ney trained on the ${j.N} training bytes predicts the ${j.heldout.bytes} held-out bytes best at order ${b.order} (of 1..${top.k}), ${b.heldout_bpc.toFixed(3)} bpc,`,
    saved > 0 ? `${saved.toFixed(3)} bpc (${((100 * saved) / 8).toFixed(1)}%) below a uniform guess over the 256 byte values (8 bpc);` : `no better than a uniform guess over the 256 byte values (8 bpc);`,
    `the unigram base alone gets ${j.unigram_heldout_bpc.toFixed(3)} bpc, and order ${top.k} ${top.heldout_bpc.toFixed(3)}` +
      (top.heldout_bpc > b.heldout_bpc ? ': longer contexts than the best are seen too rarely in this much text to pay.' : '.'),
    model === null
      ? ''
      : `The trained RNN gets ${model.toFixed(3)} bpc on the same held-out bytes: ` +
        (model >= 8
          ? 'worse than the uniform guess, a model that has memorised its training text rather than learnt from it.'
          : model > b.heldout_bpc
            ? `better than a uniform guess but ${(model - b.heldout_bpc).toFixed(3)} bpc worse than counting.`
            : `${(b.heldout_bpc - model).toFixed(3)} bpc better than counting.`),
    'A counting model\'s in-sample bpc is meaningless (it has counted the byte it predicts), so only held-out figures are shown.',
  ]
    .filter(Boolean)
    .join(' ');
}

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.kn;
  if (!out) throw new Error('report section kn: no output of stage "kn" among the inputs');
  const j = out.json as KnJson;
  // No held-out text in this run (a source of exactly N bytes): nothing was scored.
  if ((j.best as KnJson['best'] | null) === null || j.orders.length === 0) return { tables: [], metrics: [] };
  const h = j.heldout;
  const positions = `held-out ${span(0, j.positions - 1)} of bytes [${h.offset}, ${h.offset + h.bytes}) of enwik9`;
  const metrics: MetricSpec[] = j.orders.map((o) => ({ id: `kn.k${o.k}.heldout_bpc`, value: o.heldout_bpc, section: '§6.5', positions }));
  metrics.push(
    { id: 'kn.best.heldout_bpc', value: j.best.heldout_bpc, section: '§6.5', positions },
    { id: 'kn.best.order', value: j.best.order, section: '§6.5', positions },
  );
  const rows: Record<string, Cell>[] = [
    { model: 'uniform (1/256)', contexts: null, patterns: null, bpc: { ours: 8, digits: 4 } },
    { model: 'order 0 (unigram, add ½)', contexts: 1, patterns: null, bpc: { ours: j.unigram_heldout_bpc, digits: 4 } },
    ...j.orders.map((o) => ({
      model: `order ${o.k}${o.k === j.best.order ? ' (best)' : ''}`,
      contexts: o.contexts,
      patterns: o.patterns,
      bpc: { ours: o.heldout_bpc, digits: 4 },
    })),
  ];
  return {
    tables: [
      {
        id: 'kn',
        title: 'The counting baseline: byte-level interpolated Kneser–Ney, held out',
        section: '§6.2',
        positions,
        columns: [
          { key: 'model', label: 'model' },
          { key: 'contexts', label: 'training contexts' },
          { key: 'patterns', label: '(context, byte) pairs' },
          { key: 'bpc', label: 'held-out bpc' },
        ],
        rows,
        notes: [
          knWords(j, modelHeldoutBpc(inputs)),
          `P_k(y | ctx) = max(c(ctx, y) − D, 0)/c(ctx) + D·τ(ctx)/c(ctx) · P_{k−1}(y | shorter ctx), D = ${j.discount}, from the add-½ unigram P_0; an unseen context passes the lower order through; the first k−1 held-out positions use the contexts they have (docs/definitions.md §6.5).`,
        ],
        provenance: { stage: 'kn', key: out.key },
      },
    ],
    metrics,
  };
}
