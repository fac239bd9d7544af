import { describe, expect, it } from 'vitest';
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { forwardTrace } from '../../lib/rnn/forward.ts';
import { traceInputs } from '../../lib/analysis/trace-inputs.ts';
import type { StageOutput } from '../../lib/engine/types.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';
import { dataOutput, output } from '../rnn/stage-ctx.ts';

function upstream(H: number, N: number, traceN = N): Record<string, StageOutput> {
  const w = weightsFrom(randomFill(new Float32Array(paramCount(H)), 1, 1), H);
  const xs = randomBytes(N, 2);
  const tr = forwardTrace(w, xs.subarray(0, traceN));
  return {
    model: output({ H }, { params: { dtype: 'float32', shape: [w.params.length], data: w.params } }),
    data: dataOutput(xs),
    trace: output({ H }, {
      z: { dtype: 'float32', shape: [tr.T, H], data: tr.z },
      S: { dtype: 'float32', shape: [tr.T, H], data: tr.S },
      logp: { dtype: 'float64', shape: [tr.T, 256], data: tr.logp },
      lpNext: { dtype: 'float64', shape: [tr.lpNext.length], data: tr.lpNext },
      bits: { dtype: 'float64', shape: [tr.T - 1], data: tr.bits },
    }),
  };
}

describe('trace inputs', () => {
  it('reads model, data and trace that belong together', () => {
    const { w, xs, tr, N, H } = traceInputs('x', upstream(3, 20));
    expect([N, H, w.H, xs.length, tr.T, tr.H]).toEqual([20, 3, 3, 20, 20, 3]);
  });

  it('refuses a trace of other data, saying which stage to re-run', () => {
    expect(() => traceInputs('influence', upstream(3, 20, 15))).toThrow(/stage influence: trace is 15×3 but data has 20 bytes.*\nhint: .*re-run trace/s);
  });

  it('names a missing input', () => {
    const inputs = upstream(3, 20);
    delete (inputs as Record<string, unknown>).trace;
    expect(() => traceInputs('baselines', inputs)).toThrow(/stage baselines: missing input "trace" \(got: model, data\)/);
  });
});
