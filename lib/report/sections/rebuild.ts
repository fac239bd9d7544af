// Report section for paper §6.2, open question 4 (docs/definitions.md §6.3): table rebuild,
// one row per description level (what it holds, its size in free numbers, JSON bytes and
// bits, the rebuilt RNN's bpc, X%, gap, kl_train, sign_train, held-out bpc, worth_bits),
// then the reference rows (the data as its own description) and the trained model; metrics
// rebuild.<level>.*, rebuild.ref_<name>.*, rebuild.trained.heldout_bpc. Then table
// answers_6_2, this model's answers to Q1, Q2 and Q4 in words. Data from rebuild-score.
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type MetricSpec, type SectionPart, type TableSpec } from '../types.ts';
import { levelContents, q1Words, q2Words, q4Words, type Scores } from './s6-words.ts';

const num = (v: number | null, digits: number): Cell => (v === null ? null : { ours: v, digits });

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs['rebuild-score'];
  if (!out) throw new Error('report section rebuild: no output of stage "rebuild-score" among the inputs');
  const j = out.json as Scores & { positions: { first: number; last: number }; heldout: { bytes: number; positions: number } | null; refs: any[]; levels: any[] };
  // above rebuild-score.maxPositions a text is scored on evenly spread blocks of its positions
  const sampled = (x: any) => (x?.sampled ? `, scored on ${x.count} of them in ${x.blocks} evenly spread blocks of ${x.blockLength} (more than ${x.maxPositions})` : '');
  const positions = span(j.positions.first, j.positions.last) + sampled((j as any).scoreSample);
  const heldPos = j.heldout ? `held-out text, t = 0..${j.heldout.positions - 1} (${j.heldout.positions} positions${sampled((j as any).heldoutSample)})` : 'no held-out text';
  const metrics: MetricSpec[] = [];
  const put = (id: string, value: number | null, pos = positions) => {
    if (value !== null) metrics.push({ id, value, section: '§6.2', positions: pos });
  };
  for (const l of j.levels) {
    const p = `rebuild.${l.level}`;
    put(`${p}.bpc`, l.bpc);
    put(`${p}.x`, l.x);
    put(`${p}.size_bytes`, l.bytes, 'description');
    put(`${p}.numbers`, l.numbers, 'description');
    put(`${p}.bits`, l.bits, 'description');
    put(`${p}.kl_train`, l.klTrain);
    put(`${p}.sign_train`, l.signTrain);
    put(`${p}.heldout_bpc`, l.heldoutBpc, heldPos);
    put(`${p}.worth_bits`, l.worthBits, 'description');
  }
  for (const r of j.refs) {
    const p = `rebuild.ref_${r.name}`;
    if (r.bpc === null) {
      // a counting model: held-out bpc only
      put(`${p}.heldout_bpc`, r.heldoutBpc, heldPos);
      continue;
    }
    put(`${p}.bpc`, r.bpc);
    put(`${p}.x`, r.x);
    put(`${p}.size_bytes`, r.bytes, 'training text');
    put(`${p}.numbers`, r.numbers, 'training text');
    put(`${p}.bits`, r.bits, 'training text');
    put(`${p}.kl_train`, r.klTrain);
    put(`${p}.heldout_bpc`, r.heldoutBpc, heldPos);
  }
  put('rebuild.trained.heldout_bpc', j.trainedHeldoutBpc, heldPos);

  const columns = [
    { key: 'level', label: 'description' },
    { key: 'contains', label: 'what it holds' },
    { key: 'numbers', label: 'free numbers' },
    { key: 'bytes', label: 'JSON bytes' },
    { key: 'bits', label: 'bits (gzip-9)' },
    { key: 'bpc', label: 'bpc' },
    { key: 'x', label: 'X%' },
    { key: 'gap', label: 'gap to trained' },
    { key: 'kl', label: 'kl_train (bits)' },
    { key: 'sign', label: 'sign_train' },
    { key: 'heldout', label: 'held-out bpc' },
    { key: 'worth', label: 'worth its bits' },
  ];
  const rows: Record<string, Cell>[] = j.levels.map((l: any) => ({
    level: l.level + (l.edited ? ' (edited)' : ''),
    contains: levelContents(l),
    numbers: l.numbers,
    bytes: l.bytes,
    bits: l.bits,
    bpc: num(l.bpc, 6),
    x: num(l.x, 1),
    gap: num(l.gap, 6),
    kl: num(l.klTrain, 6),
    sign: num(l.signTrain, 4),
    heldout: num(l.heldoutBpc, 4),
    worth: l.worthBits ? 'yes' : 'no',
  }));
  for (const r of j.refs) {
    rows.push({
      level: `ref_${r.name} (reference)`,
      contains: `the training text (${r.bytes} bytes) as its own description: ${r.what}`,
      numbers: r.numbers, bytes: r.bytes, bits: r.bits,
      bpc: num(r.bpc, 6), x: num(r.x, 1), gap: num(r.gap, 6), kl: num(r.klTrain, 6), sign: null, heldout: num(r.heldoutBpc, 4), worth: null,
    });
  }
  rows.push({
    level: 'trained model', contains: 'the weights as trained', numbers: null, bytes: null, bits: null,
    bpc: num(j.trainedBpc, 6), x: num(100, 1), gap: num(0, 6), kl: num(0, 6), sign: num(1, 4), heldout: num(j.trainedHeldoutBpc, 4), worth: null,
  });
  const tables: TableSpec[] = [
    {
      id: 'rebuild',
      title: 'Q4: the weights written back from descriptions, at the bits they took',
      section: '§6.2',
      positions: `${positions} of the training text; held-out bpc: ${heldPos}`,
      columns,
      rows,
      notes: [
        q4Words(j),
        `The rebuild stage's only input is describe's output: it reads no data and fits nothing to next bytes (the stage graph enforces it). Whatever a level needs from the data is in its description: the byte counts of marginal, the cells' sizes and seen bytes of a rule level, and the readout (the model's own, or one fitted in describe), all counted.`,
        `Bits: 8 × the size of the description's canonical JSON (keys sorted) under ${j.compressor}; a reference row's bits are the same compressor's size of the ${j.positions.last + 2} training bytes. A level is worth its bits when no reference has both no more bits and no higher bpc.`,
        `kl_train: mean KL(p_trained ‖ p_rebuilt) in bits; sign_train: the fraction of neuron-steps where a rebuilt unit kept one to one with a model unit has its sign, the rebuilt RNN fed forward on its own states. Reference rows are scored like the levels over all positions (the §4.2 states are 0 before its largest offset, so its bpc here is above the in-sample figure of its own section). X% against the trained ${j.trainedBpc.toFixed(6)} bpc.`,
      ],
      provenance: { stage: 'rebuild-score', key: out.key },
    },
  ];
  const tc = inputs['timing-carrier']?.json;
  const pt = inputs['pattern-tables']?.json;
  if (tc && pt) {
    tables.push({
      id: 'answers_6_2',
      title: 'The open questions of §6.2, answered on this model',
      section: '§6.2',
      positions,
      columns: [
        { key: 'q', label: 'question' },
        { key: 'a', label: 'answer' },
      ],
      rows: [
        { q: 'Q1 carrier construction: can Wh, bh be built from the timing features alone?', a: q1Words(tc) },
        { q: 'Q2 pattern neurons: what byte sets do the top PS units detect at each carrier state?', a: q2Words(pt) },
        { q: 'Q4 weight reconstruction: can all weights be written from these descriptions, and are they worth their bits?', a: q4Words(j) },
      ],
      notes: ['Q3 (data size) is answered separately (docs/definitions.md §6.4).'],
      provenance: { stage: 'rebuild-score', key: out.key },
    });
  }
  return { tables, metrics };
}
