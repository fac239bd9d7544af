// Report section for paper §6.2, open question 4 (docs/definitions.md §6.3): table rebuild (per
// description level: size in JSON bytes and free numbers, the rebuilt RNN's bpc, X% and
// the gap to the trained bpc) and the metrics rebuild.<level>.{bpc, x, size_bytes,
// numbers}; then table answers_6_2, this model's answers to Q1, Q2 and Q4 in words.
// Data from `rebuild` (and `trace` for the trained bpc, which rebuild cannot see).
import type { StageOutput } from '../../engine/types.ts';
import { span, type MetricSpec, type SectionPart, type TableSpec } from '../types.ts';
import { q1Words, q2Words, q4Words } from './s6-words.ts';

const xPercent = (h: number, trained: number) => ((8 - h) / (8 - trained)) * 100;

export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.rebuild;
  if (!out) throw new Error('report section rebuild: no output of stage "rebuild" among the inputs');
  const j = out.json;
  const trained = inputs.trace.json.bpc as number;
  const positions = span(j.positions.first, j.positions.last);
  const metrics: MetricSpec[] = [];
  for (const l of j.levels) {
    const m = (k: string, value: number) => metrics.push({ id: `rebuild.${l.level}.${k}`, value, section: '§6.2', positions });
    m('bpc', l.bpc);
    m('x', xPercent(l.bpc, trained));
    m('size_bytes', l.bytes);
    m('numbers', l.numbers);
  }
  const tables: TableSpec[] = [
    {
      id: 'rebuild',
      title: 'Q4: the weights written back from descriptions',
      section: '§6.2',
      positions,
      columns: [
        { key: 'level', label: 'description' },
        { key: 'bytes', label: 'JSON bytes' },
        { key: 'numbers', label: 'free numbers' },
        { key: 'bpc', label: 'bpc' },
        { key: 'x', label: 'X%' },
        { key: 'gap', label: 'gap to trained (bpc)' },
      ],
      rows: j.levels.map((l: any) => ({
        level: l.level,
        bytes: l.bytes,
        numbers: l.numbers,
        bpc: { ours: l.bpc, digits: 6 },
        x: { ours: xPercent(l.bpc, trained), digits: 1 },
        gap: { ours: l.bpc - trained, digits: 6 },
      })),
      notes: [
        q4Words(j, trained),
        'The rebuild stage\'s only inputs are the descriptions and the data (the stage graph enforces it: no model, trace or training output reaches it other than through describe\'s JSON).',
        `Levels: marginal (no recurrence, by = log byte frequencies: the unigram entropy ${j.unigramEntropy.toFixed(6)}); rules_<set> for each Q1 feature set (feature units compute the set's features; every other unit gets its cell carriers as a least-squares Wh row and bh, and its Wx from its pattern bins; Wy, by fitted on the rebuilt states); full (every weight). Free numbers: numeric leaves of the description's body. X% against the trained ${trained.toFixed(6)} bpc.`,
      ],
      provenance: { stage: 'rebuild', key: out.key },
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
        { q: 'Q4 weight reconstruction: can all weights be written from these descriptions?', a: q4Words(j, trained) },
      ],
      notes: ['Q3 (data size) is answered separately (docs/definitions.md §6.4).'],
      provenance: { stage: 'rebuild', key: out.key },
    });
  }
  return { tables, metrics };
}
