// The skipgrams stage (§3.4) run as the engine runs it. It reads only the data, so its
// greedy path (the cross-check figures, docs/definitions.md §V) is checked on the shipped 1024 bytes on every machine; its report section
// also reads the trace (the paper's weights).
import { describe, expect, it } from 'vitest';
import skipgrams from '../../stages/skipgrams.ts';
import * as skipSection from '../../lib/report/sections/skipgrams.ts';
import { PAPER_WEIGHTS, refBytes } from '../helpers/reference.ts';
import { asOutput, checkSection, ctx, dataOutput, paperUpstream, runStage } from '../helpers/stages.ts';

describe('skipgrams stage', () => {
  const inputs = { data: dataOutput(refBytes()) };

  it('finds the the cross-check figures (docs/definitions.md §V) greedy path on the paper data', async () => {
    const s = (await runStage(skipgrams, inputs)).json as any;
    expect(s.offsets).toEqual([1, 8, 20, 3, 27, 2, 12, 7]);
    expect(s.greedy.map((g: any) => g.k)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.bigram).toEqual({ offsets: [1], bpc: s.greedy[0].bpc, patterns: s.greedy[0].patterns, contexts: s.greedy[0].contexts });
    expect(s.bigram.bpc).toBeCloseTo(2.04687, 5);
    expect([s.greedy[3].bpc, s.greedy[3].patterns]).toEqual([expect.closeTo(0.069273, 6), 712]);
    expect([s.greedy[7].bpc, s.greedy[7].patterns]).toEqual([expect.closeTo(0.042937, 6), 834]);
    expect([s.maxOffset, s.N]).toEqual([30, 1024]);
  });

  it.skipIf(!PAPER_WEIGHTS)('gives its report section, with skip-gram offsets', async () => {
    const sg = await runStage(skipgrams, inputs);
    const part = skipSection.build({ skipgrams: asOutput(sg, 'kskip'), trace: paperUpstream().trace });
    checkSection(part, ['skipgram'], ['bigram_bpc', 'skip4_bpc', 'skip4_patterns', 'skip8_bpc', 'skip8_patterns']);
    for (const t of part.tables) expect(t.convention).toBe('skip-gram offsets');
  });

  it('rejects maxK above the candidate offsets', async () => {
    await expect(async () => skipgrams.run(ctx({ maxOffset: 3, maxK: 4 }, inputs))).rejects.toThrow(/hint:/);
  });
});
