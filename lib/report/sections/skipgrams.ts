// Report section for paper §3.4 (docs/definitions.md §3.4, §R): skip-gram counting, the paper's rows
// (bigram, skip-4, skip-8, trained RNN) and the whole greedy path. Data from `skipgrams`;
// the trained RNN's bpc from `trace`.
import type { StageOutput } from '../../engine/types.ts';
import { span, type Cell, type MetricSpec, type SectionPart } from '../types.ts';
import { traceOf } from '../../rnn/io.ts';
import { mean } from '../../rnn/forward.ts';

interface Score {
  k?: number;
  offsets: number[];
  bpc: number;
  patterns: number;
  contexts: number;
}


export function build(inputs: Record<string, StageOutput>): SectionPart {
  const out = inputs.skipgrams;
  const { greedy, bigram, N } = out.json as { greedy: Score[]; bigram: Score; N: number };
  const at = (s: Score) => span(Math.max(...s.offsets), N - 1);
  const list = (s: Score) => `[${s.offsets.join(', ')}]`;
  const rows: Record<string, Cell>[] = [
    { model: 'Bigram', offsets: list(bigram), positions: at(bigram), bpc: { ours: bigram.bpc, ref: 'bigram_bpc' }, patterns: { ours: bigram.patterns }, contexts: bigram.contexts },
  ];
  const metrics: MetricSpec[] = [{ id: 'bigram_bpc', value: bigram.bpc, section: '§3.4', positions: at(bigram) }];
  for (const k of [4, 8]) {
    const s = greedy.find((g) => g.k === k);
    if (!s) continue; // a shorter greedy path (skipgrams.maxK < k)
    rows.push({ model: `Skip-${k}-gram`, offsets: list(s), positions: at(s), bpc: { ours: s.bpc, ref: `skip${k}_bpc` }, patterns: { ours: s.patterns, ref: `skip${k}_patterns` }, contexts: s.contexts });
    metrics.push(
      { id: `skip${k}_bpc`, value: s.bpc, section: '§3.4', positions: at(s) },
      { id: `skip${k}_patterns`, value: s.patterns, section: '§3.4', positions: at(s) },
    );
  }
  if (inputs.trace) {
    // the trace stage's own mean of its bits (its json), not its tensors: at 512 KiB those
    // are a quarter of a GiB of states read back and re-hashed for one number
    const j = inputs.trace.json as { bpc?: number; positions?: number };
    const [bpc, n] = typeof j.bpc === 'number' && typeof j.positions === 'number' ? [j.bpc, j.positions] : ((b) => [mean(b), b.length])(traceOf(inputs.trace).bits);
    rows.push({ model: 'Trained RNN', offsets: '—', positions: span(0, n - 1), bpc: { ours: bpc, ref: 'skipgram.trained.bpc' }, patterns: null, contexts: null });
  }
  const path = greedy.map((s, i) => ({
    k: s.k ?? i + 1,
    added: s.offsets[s.offsets.length - 1],
    offsets: list(s),
    positions: at(s),
    bpc: s.bpc,
    patterns: s.patterns,
    contexts: s.contexts,
  }));
  const notes = [
    'In-sample conditional entropy H = −Σ n(c,y)/M log2(n(c,y)/n(c)) over t = max(d)..N−1, no smoothing; skip-gram offset d means x_{t−d} predicts x_t.',
  ];
  const provenance = { stage: 'skipgrams', key: out.key };
  return {
    tables: [
      {
        id: 'skipgram',
        title: 'UM learning without backpropagation: skip-gram counting',
        section: '§3.4',
        positions: 'each row over t = max(offsets)..N−1 (see the positions column)',
        convention: 'skip-gram offsets',
        columns: [
          { key: 'model', label: 'Model' },
          { key: 'offsets', label: 'Offsets' },
          { key: 'positions', label: 'Positions' },
          { key: 'bpc', label: 'bpc' },
          { key: 'patterns', label: 'Patterns' },
          { key: 'contexts', label: 'Contexts' },
        ],
        rows,
        notes,
        provenance,
      },
      {
        id: 'skipgram_greedy',
        title: `Greedy skip-gram path, k = 1..${greedy.length} (offsets 1..${out.json.maxOffset}, strictly lower H wins)`,
        section: '§3.4',
        positions: 'each row over t = max(offsets)..N−1',
        convention: 'skip-gram offsets',
        columns: [
          { key: 'k', label: 'k' },
          { key: 'added', label: 'Added offset' },
          { key: 'offsets', label: 'Offsets' },
          { key: 'positions', label: 'Positions' },
          { key: 'bpc', label: 'bpc' },
          { key: 'patterns', label: 'Patterns' },
          { key: 'contexts', label: 'Contexts' },
        ],
        rows: path,
        provenance,
      },
    ],
    metrics,
  };
}
