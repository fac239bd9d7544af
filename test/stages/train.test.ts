import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import trainStage, { budgetFor, epochsFor } from '../../stages/train.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { randomBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput, output } from '../rnn/stage-ctx.ts';
import { convergedOf, heldoutEveryFor, heldoutEveryStop, STOP_MIN_POINTS } from '../../lib/rnn/train.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const schema = (name: string) => JSON.parse(readFileSync(`schemas/${name}.json`, 'utf8'));
const params = { hidden: 8, epochs: 4, predictions: null, optimizer: 'adam' as const, init: 'glibc' as const, seed: 42, bptt: 10, evalEvery: 2, heldoutEvery: null, minEpochs: 1, maxDoublings: 0, predictionsGrowth: 0, stopOnHeldout: false };

describe('train stage', () => {
  it('trains from the data bytes and returns schema-valid json, the best checkpoint and the curve', async () => {
    const xs = randomBytes(64, 3);
    const calls: string[] = [];
    const out = await trainStage.run(
      ctx(params, { data: dataOutput(xs) }, { progress: (d, t, m) => calls.push(`${d}/${t} ${m}`) }),
    );
    const ajv = new Ajv({ allErrors: true });
    const valid = ajv.validate(schema('train.output'), out.json);
    expect(ajv.errorsText()).toBe('No errors');
    expect(valid).toBe(true);
    const j = out.json as any;
    expect(j).toMatchObject({ hidden: 8, epochs: 4, epochsFrom: 'epochs', predictions: 252, optimizer: 'adam', init: 'glibc', seed: 42, bptt: 10, predictionsPerEpoch: 63 });
    expect(j.recipe).toMatchObject({ optimizer: 'adam', init: 'glibc' });
    expect(j.curve.map((c: any) => c.epoch)).toEqual([2, 4]);
    expect(j.finalEvalBpc).toBe(j.curve[1].evalBpc);
    const t = out.tensors!;
    expect(t.params.shape).toEqual([paramCount(8)]);
    expect(t.params.data).toBeInstanceOf(Float32Array);
    expect(t.finalParams.shape).toEqual([paramCount(8)]);
    expect(t.curveTrainBpc.shape).toEqual([4]);
    expect(Object.keys(t).sort()).toEqual([...trainStage.tensors!].sort());
    expect(calls).toHaveLength(4);
    expect(calls[3]).toMatch(/^4\/4 epoch 4 bpc \d+\.\d{4}$/);
  });

  it('logs every epoch with evalEvery = 1, and takes the epochs from predictions when that is set', async () => {
    const xs = randomBytes(41, 3); // N - 1 = 40 predictions per epoch
    const out = await trainStage.run(ctx({ ...params, evalEvery: 1 }, { data: dataOutput(xs) }));
    const every = out.json as any;
    expect(every.curve.map((c: any) => c.epoch)).toEqual([1, 2, 3, 4]);
    expect(every.curve.map((c: any) => c.trainBpc)).toEqual(Array.from(out.tensors!.curveTrainBpc.data));
    // 130 / 40 = 3.25 -> 3 epochs (epochs: 4 is ignored); 10 / 40 -> at least 1
    const m = (await trainStage.run(ctx({ ...params, predictions: 130, optimizer: 'sgd' as const }, { data: dataOutput(xs) }))).json as any;
    expect(m).toMatchObject({ epochs: 3, epochsFrom: 'predictions', predictions: 120 });
    expect(m.recipe.lrSchedule).toContain('π e/3'); // the schedule spans the epochs run
    expect(m.curve.at(-1).epoch).toBe(3);
    expect(epochsFor({ epochs: 4, predictions: 10 }, 41)).toBe(1);
    expect(epochsFor({ epochs: 4, predictions: null }, 41)).toBe(4);
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023 }, 1024)).toBe(4000);
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023 }, 65536)).toBe(62);
    // a budget that grows with N: unchanged at N = 1024, × 64^g at 64 KiB
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023, predictionsGrowth: 0.5 }, 1024)).toBe(4000);
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023, predictionsGrowth: 0.5 }, 65536)).toBe(Math.round((4000 * 1023 * Math.sqrt(65535 / 1023)) / 65535));
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023, predictionsGrowth: 1 }, 65536)).toBe(4000);
    expect(budgetFor({ predictions: 4000 * 1023, predictionsGrowth: 0 }, 65536)).toBe(4000 * 1023);
    // minEpochs: at least that many passes (Q3's rule); below it, predictions decide
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023, minEpochs: 100 }, 65536)).toBe(100);
    expect(epochsFor({ epochs: 1, predictions: 4000 * 1023, minEpochs: 100 }, 1024)).toBe(4000);
    const k = (await trainStage.run(ctx({ ...params, predictions: 130, minEpochs: 5, optimizer: 'sgd' as const }, { data: dataOutput(xs) }))).json as any;
    expect(k).toMatchObject({ epochs: 5, epochsFrom: 'minEpochs', predictions: 200 });
    expect(k.recipe.lrSchedule).toContain('π e/5');
  });

  it('scores the data stage\'s held-out text along the way and says whether the model converged; without one, null', async () => {
    const xs = randomBytes(64, 3);
    const hs = randomBytes(40, 4);
    const data = output({ bytes: 64, heldout: { offset: 500, bytes: 40 } }, { bytes: { dtype: 'uint8', shape: [64], data: xs }, heldout: { dtype: 'uint8', shape: [40], data: hs } });
    const out = await trainStage.run(ctx({ ...params, epochs: 8, heldoutEvery: 2 }, { data }));
    const ajv = new Ajv({ allErrors: true });
    expect(ajv.validate(schema('train.output'), out.json), ajv.errorsText()).toBe(true);
    const j = out.json as any;
    expect(j.heldoutEvery).toBe(2);
    expect(j.heldout.curve.map((c: any) => c.epoch)).toEqual([0, 2, 4, 6, 8]);
    expect(j.heldout).toMatchObject({ offset: 500, bytes: 40, cutEpoch: 6, tolerance: 0.01 });
    const bpcs = j.heldout.curve.map((c: any) => c.heldoutBpc);
    expect(j.heldout.bestBpc).toBe(Math.min(...bpcs));
    const before = Math.min(...bpcs.slice(0, 4));
    expect(j.heldout.improvementLastQuarter).toBe(before - j.heldout.bestBpc);
    expect(j.converged).toBe(before - j.heldout.bestBpc < 0.01);
    // the weights are those of a run without held-out text
    const plain = await trainStage.run(ctx({ ...params, epochs: 8 }, { data: dataOutput(xs) }));
    expect(Array.from(plain.tensors!.params.data)).toEqual(Array.from(out.tensors!.params.data));
    expect((plain.json as any).heldout).toBeNull();
    expect((plain.json as any).converged).toBeNull();
    expect((plain.json as any).heldoutEvery).toBe(1); // null: floor(E/8), at least 1
    expect(heldoutEveryFor(null, 4000)).toBe(500);
    expect(heldoutEveryFor(7, 4000)).toBe(7);
  });

  it('with maxDoublings, trains again with twice the epochs while the model has not converged; the model is the last run', async () => {
    const xs = randomBytes(64, 3);
    const hs = randomBytes(40, 4);
    const data = output({ bytes: 64, heldout: { offset: 500, bytes: 40 } }, { bytes: { dtype: 'uint8', shape: [64], data: xs }, heldout: { dtype: 'uint8', shape: [40], data: hs } });
    const p = { ...params, optimizer: 'adam' as const, epochs: 2, heldoutEvery: 1, maxDoublings: 3 };
    const j = (await trainStage.run(ctx(p, { data }))).json as any;
    const runs = j.attempts.map((a: any) => a.epochs);
    // 2, 4, 8, 16 at most; each but the last did not converge, and the last is the model
    expect(runs).toEqual([2, 4, 8, 16].slice(0, runs.length));
    expect(j.attempts.slice(0, -1).every((a: any) => a.converged === false)).toBe(true);
    expect(runs.length === 4 || j.attempts.at(-1).converged === true).toBe(true);
    expect(j.epochs).toBe(runs.at(-1));
    expect(j.converged).toBe(j.attempts.at(-1).converged);
    expect(j.epochsFrom).toBe(runs.length > 1 ? 'doubled' : 'epochs');
    // the last run is an ordinary run of that many epochs: the same weights
    const direct = await trainStage.run(ctx({ ...p, epochs: j.epochs, maxDoublings: 0 }, { data }));
    const again = await trainStage.run(ctx(p, { data }));
    expect(Array.from(again.tensors!.params.data)).toEqual(Array.from(direct.tensors!.params.data));
    expect(runs.length).toBeGreaterThan(1); // this setting does need a second run
  }, 60_000);

  it('with stopOnHeldout (adam), stops at the first held-out point where the run so far has converged, and is then the run planned for that many epochs', async () => {
    const xs = randomBytes(64, 3);
    const hs = randomBytes(40, 4);
    const data = output({ bytes: 64, heldout: { offset: 500, bytes: 40 } }, { bytes: { dtype: 'uint8', shape: [64], data: xs }, heldout: { dtype: 'uint8', shape: [40], data: hs } });
    const p = { ...params, epochs: 400, heldoutEvery: 3, stopOnHeldout: true };
    const out = await trainStage.run(ctx(p, { data }));
    const j = out.json as any;
    const ajv = new Ajv({ allErrors: true });
    ajv.validate(schema('train.output'), j);
    expect(ajv.errorsText()).toBe('No errors');
    // random held-out text: the model stops improving on it early, long before the cap
    expect(j.epochs).toBeLessThan(400);
    expect(j).toMatchObject({ epochsCap: 400, epochsFrom: 'heldout', converged: true, predictions: j.epochs * 63, heldoutEvery: 3 });
    expect(j.recipe.lrSchedule).toContain(`after ${j.epochs} of at most 400 epochs`);
    const eps = j.heldout.curve.map((c: any) => c.epoch);
    const bpc = j.heldout.curve.map((c: any) => c.heldoutBpc);
    expect(eps.at(-1)).toBe(j.epochs);
    expect(j.curve.at(-1).epoch).toBe(j.epochs); // the in-sample eval at the stop, too
    expect(out.tensors!.curveTrainBpc.shape).toEqual([j.epochs]);
    // it stopped at the first point allowed (the 8th after the init on) where the rule holds
    expect(eps.length).toBeGreaterThan(STOP_MIN_POINTS);
    expect(convergedOf(eps, bpc, j.epochs).converged).toBe(true);
    for (let k = STOP_MIN_POINTS + 1; k < eps.length; k++) expect(convergedOf(eps.slice(0, k), bpc.slice(0, k), eps[k - 1]).converged).toBe(false);
    // adam's rate is constant: the stopped run is bit for bit the run of that many epochs
    const plain = await trainStage.run(ctx({ ...p, epochs: j.epochs, stopOnHeldout: false }, { data }));
    expect(Array.from(out.tensors!.finalParams.data)).toEqual(Array.from(plain.tensors!.finalParams.data));
    expect(Array.from(out.tensors!.params.data)).toEqual(Array.from(plain.tensors!.params.data));
    expect(Array.from(out.tensors!.curveTrainBpc.data)).toEqual(Array.from(plain.tensors!.curveTrainBpc.data));
    expect((plain.json as any).heldout.curve).toEqual(j.heldout.curve);
    // the interval by predictions when heldoutEvery is null: about 32768 between points
    expect(heldoutEveryStop(null, 1024)).toBe(32);
    expect(heldoutEveryStop(null, 8192)).toBe(4);
    expect(heldoutEveryStop(null, 65536)).toBe(1);
    expect(heldoutEveryStop(null, 524288)).toBe(1);
    expect(heldoutEveryStop(7, 524288)).toBe(7);
  }, 60_000);

  it('rejects stopOnHeldout with sgd (its cosine spans the planned epochs), without held-out text, or with maxDoublings', async () => {
    const xs = randomBytes(64, 3);
    const hs = randomBytes(40, 4);
    const data = output({ bytes: 64, heldout: { offset: 500, bytes: 40 } }, { bytes: { dtype: 'uint8', shape: [64], data: xs }, heldout: { dtype: 'uint8', shape: [40], data: hs } });
    const p = { ...params, epochs: 20, stopOnHeldout: true };
    await expect(trainStage.run(ctx({ ...p, optimizer: 'sgd' as const }, { data }))).rejects.toThrow(/stopOnHeldout needs .*got 40 held-out bytes, sgd/);
    await expect(trainStage.run(ctx(p, { data: dataOutput(xs) }))).rejects.toThrow(/stopOnHeldout needs .*no held-out text/);
    await expect(trainStage.run(ctx({ ...p, maxDoublings: 1 }, { data }))).rejects.toThrow(/maxDoublings 1/);
  });

  it("has defaults matching the authors' released recipe (H 128, 4000 epochs, sgd, glibc init, seed 42, BPTT-50) and rejects nothing silently", () => {
    const s = schema('train.params');
    const d = Object.fromEntries(Object.entries(s.properties).map(([k, v]: [string, any]) => [k, v.default]));
    expect(d).toEqual({ hidden: 128, epochs: 4000, predictions: null, optimizer: 'sgd', init: 'glibc', seed: 42, bptt: 50, evalEvery: 50, heldoutEvery: null, minEpochs: 1, maxDoublings: 0, predictionsGrowth: 0, stopOnHeldout: false });
    expect(s.additionalProperties).toBe(false);
    expect(trainStage.volatile).toEqual(['msPerEpoch', 'msTotal']);
  });
});
