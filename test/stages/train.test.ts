import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import trainStage, { epochsFor } from '../../stages/train.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { randomBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput } from '../rnn/stage-ctx.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const schema = (name: string) => JSON.parse(readFileSync(`schemas/${name}.json`, 'utf8'));
const params = { hidden: 8, epochs: 4, predictions: null, optimizer: 'adam' as const, init: 'glibc' as const, seed: 42, bptt: 10, evalEvery: 2 };

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
  });

  it("has defaults matching the authors' released recipe (H 128, 4000 epochs, sgd, glibc init, seed 42, BPTT-50) and rejects nothing silently", () => {
    const s = schema('train.params');
    const d = Object.fromEntries(Object.entries(s.properties).map(([k, v]: [string, any]) => [k, v.default]));
    expect(d).toEqual({ hidden: 128, epochs: 4000, predictions: null, optimizer: 'sgd', init: 'glibc', seed: 42, bptt: 50, evalEvery: 50 });
    expect(s.additionalProperties).toBe(false);
    expect(trainStage.volatile).toEqual(['msPerEpoch', 'msTotal']);
  });
});
