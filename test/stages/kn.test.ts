// The kn stage (docs/definitions.md §6.5) run as the engine runs it, on the data stage's own
// output (the shipped bytes: 1024 training, the next 1024 held out), and its report section.
// Its bad input through the CLI: kn-cli.test.ts (end to end).
import { describe, expect, it } from 'vitest';
import dataStage from '../../stages/data.ts';
import knStage from '../../stages/kn.ts';
import * as knSection from '../../lib/report/sections/kn.ts';
import { knNaiveBpc } from '../../lib/analysis/kn.ts';
import { asOutput, checkSection, output, runStage, upstream } from '../helpers/stages.ts';
import { evalBpc } from '../../lib/rnn/train.ts';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomFill } from '../rnn/helpers.ts';
import trainStage from '../../stages/train.ts';
import modelStage from '../../stages/model.ts';
import { ctx } from '../rnn/stage-ctx.ts';

describe('kn stage', async () => {
  const data = asOutput(await runStage(dataStage, {}), 'kdata');
  const xs = data.tensors.bytes.data as Uint8Array;
  const hs = data.tensors.heldout.data as Uint8Array;

  it('scores orders 1..6 on the held-out KiB, each equal to the naive definition, and names the best', async () => {
    const j = (await runStage(knStage, { data })).json as any;
    expect([j.N, j.heldout, j.positions, j.discount]).toEqual([1024, { offset: 1024, bytes: 1024 }, 1023, 0.8]);
    expect(j.orders.map((o: any) => o.k)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const o of j.orders) expect(Math.abs(o.heldout_bpc - knNaiveBpc(xs, hs, o.k, 0.8)), `order ${o.k}`).toBeLessThan(1e-12);
    expect(Math.abs(j.unigram_heldout_bpc - knNaiveBpc(xs, hs, 0, 0.8))).toBeLessThan(1e-12);
    const min = Math.min(...j.orders.map((o: any) => o.heldout_bpc));
    expect(j.best.heldout_bpc).toBe(min);
    expect(j.orders[j.best.order - 1].heldout_bpc).toBe(min);
    // contexts of order k are (k-1)-context pairs extended: never fewer than the order below
    for (let k = 1; k < 6; k++) expect(j.orders[k].contexts).toBeGreaterThanOrEqual(j.orders[k - 1].contexts);
    const three = (await runStage(knStage, { data }, { maxOrder: 3, discount: 0.5 })).json as any;
    expect(three.orders).toHaveLength(3);
    expect(Math.abs(three.orders[2].heldout_bpc - knNaiveBpc(xs, hs, 3, 0.5))).toBeLessThan(1e-12);
  });

  it('scores nothing when the source had no held-out text, and the report leaves the section out', async () => {
    const bare = asOutput(await runStage(dataStage, { }, { heldoutBytes: 0 }), 'kbare');
    const kn = asOutput(await runStage(knStage, { data: bare }), 'kkn0');
    expect(kn.json).toMatchObject({ heldout: { bytes: 0 }, positions: 0, orders: [], best: null, unigram_heldout_bpc: null });
    expect(knSection.build({ kn, data: bare })).toEqual({ tables: [], metrics: [] });
  });

  it('gives its report section: table kn, the §6.5 metric ids, and a sentence from the numbers', async () => {
    const kn = asOutput(await runStage(knStage, { data }), 'kkn');
    const part = knSection.build({ kn });
    checkSection(part, ['kn'], ['kn.k1.heldout_bpc', 'kn.k2.heldout_bpc', 'kn.k3.heldout_bpc', 'kn.k4.heldout_bpc', 'kn.k5.heldout_bpc', 'kn.k6.heldout_bpc', 'kn.best.heldout_bpc', 'kn.best.order']);
    const best = kn.json.best;
    expect(part.metrics.find((m) => m.id === 'kn.best.order')!.value).toBe(best.order);
    const words = part.tables[0].notes![0];
    expect(words).toContain(`order ${best.order}`);
    expect(words).toContain(best.heldout_bpc.toFixed(3));
    expect(words).toContain(`${(8 - best.heldout_bpc).toFixed(3)} bpc`);
    expect(part.tables[0].positions).toBe('held-out t = 0..1022 (1023 positions) of bytes [1024, 2048) of enwik9');
    expect(words).not.toContain('trained RNN'); // no model among the inputs
  });

  it('puts the model\'s own held-out bpc beside KN\'s in words, computed as training evaluates bpc', async () => {
    const kn = asOutput(await runStage(knStage, { data }), 'kkn');
    const H = 8;
    const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 3, 0.3), H);
    const { model } = upstream(w, xs);
    const bpc = knSection.modelHeldoutBpc({ model, data });
    expect(Math.abs(bpc! - evalBpc(w.params, H, hs))).toBeLessThan(1e-12);
    const words = knSection.build({ kn, model, data }).tables[0].notes![0];
    expect(words).toContain(`The trained RNN gets ${bpc!.toFixed(3)} bpc on the same held-out bytes`);
    expect(knSection.modelHeldoutBpc({ model, data: output({ bytes: 1024 }, { bytes: data.tensors.bytes }) })).toBeNull();
  });

  it('reads a trained model\'s held-out bpc from its training, the same bits as its own pass; another block is scored anew', async () => {
    const train = asOutput(await trainStage.run(ctx({ hidden: 8, epochs: 4, predictions: null, optimizer: 'adam', init: 'glibc', seed: 42, bptt: 10, evalEvery: 2, heldoutEvery: 2, minEpochs: 1, maxDoublings: 0, predictionsGrowth: 0, stopOnHeldout: false }, { data })), 'ktrain');
    const model = asOutput(await modelStage.run(ctx({ source: 'train' } as any, { train })), 'kmodel');
    const fromTraining = (model.json.train as any).heldout.checkpointBpc;
    expect(typeof fromTraining).toBe('number');
    // the section's own pass over the block, on the model without its training record
    const bare = output({ ...model.json, train: undefined }, model.tensors);
    const own = knSection.modelHeldoutBpc({ model: bare, data });
    expect(Object.is(knSection.modelHeldoutBpc({ model, data }), own)).toBe(true);
    expect(own).toBe(fromTraining);
    // a held-out block other than the one training scored: computed, not read
    const other = output({ ...data.json, heldout: { offset: 4096, bytes: 1000 } }, { ...data.tensors, heldout: { ...data.tensors.heldout, shape: [1000], data: (data.tensors.heldout.data as Uint8Array).slice(0, 1000) } });
    const planted = output({ ...model.json, train: { ...(model.json.train as any), heldout: { ...(model.json.train as any).heldout, offset: 4096, bytes: 1000, checkpointBpc: 99 } } }, model.tensors);
    expect(knSection.modelHeldoutBpc({ model: planted, data: other })).toBe(99);
    expect(knSection.modelHeldoutBpc({ model, data: other })).toBe(knSection.modelHeldoutBpc({ model: bare, data: other }));
  });
});
