import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import trainStage from '../../stages/train.ts';
import { paramCount } from '../../lib/rnn/weights.ts';
import { randomBytes } from '../rnn/helpers.ts';
import { ctx, dataOutput } from '../rnn/stage-ctx.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;
const schema = (name: string) => JSON.parse(readFileSync(`schemas/${name}.json`, 'utf8'));
const params = { hidden: 8, epochs: 4, optimizer: 'adam' as const, seed: 42, bptt: 10, evalEvery: 2 };

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
    expect(j).toMatchObject({ hidden: 8, epochs: 4, optimizer: 'adam', seed: 42, bptt: 10, predictionsPerEpoch: 63 });
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

  it('has defaults matching the paper (H 128, 4000 epochs, adam, seed 42, BPTT-50) and rejects nothing silently', () => {
    const s = schema('train.params');
    const d = Object.fromEntries(Object.entries(s.properties).map(([k, v]: [string, any]) => [k, v.default]));
    expect(d).toEqual({ hidden: 128, epochs: 4000, optimizer: 'adam', seed: 42, bptt: 50, evalEvery: 50 });
    expect(s.additionalProperties).toBe(false);
    expect(trainStage.volatile).toEqual(['msPerEpoch', 'msTotal']);
  });
});
