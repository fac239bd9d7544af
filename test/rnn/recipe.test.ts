// The authors' recipe (docs/definitions.md §2): init = glibc srand(42)/rand(), so every Wx column of a
// byte that never occurs as an input (x_0..x_{N-2}) keeps its init value through training,
// and on the paper's data those 204 columns (26,112 values) equal sat_model.bin bit for bit.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { initParams, train } from '../../lib/rnn/train.ts';
import { V, parseWeightsFile, views } from '../../lib/rnn/weights.ts';
import { chunkGradNaive } from '../../lib/rnn/bptt.ts';
import { clipScale, gradSumSq, sgdLearningRate, sgdStep } from '../../lib/rnn/optim.ts';
import { DEFAULT_FLOOR } from '../../lib/rnn/forward.ts';
import { PAPER_DATA, PAPER_WEIGHTS, randomBytes } from './helpers.ts';

const H = 128;

/** Bytes that never occur as an input x_0..x_{N-2}. */
function neverInput(xs: Uint8Array): number[] {
  const seen = new Set(xs.subarray(0, xs.length - 1));
  return Array.from({ length: V }, (_, v) => v).filter((v) => !seen.has(v));
}

/** Indices into Wx of those bytes' columns, and how many differ bitwise between a and b. */
function unseenDiff(a: Float32Array, b: Float32Array, cols: number[]): { n: number; differ: number } {
  const wa = new Uint32Array(views(a, H).Wx.slice().buffer);
  const wb = new Uint32Array(views(b, H).Wx.slice().buffer);
  let n = 0;
  let differ = 0;
  for (const v of cols) for (let i = 0; i < H; i++, n++) if (wa[i * V + v] !== wb[i * V + v]) differ++;
  return { n, differ };
}

if (!PAPER_WEIGHTS || !PAPER_DATA) {
  console.log('skipped: the paper-weights tests need sat_model.bin: set TOTAL_INTERP_PAPER_WEIGHTS=FILE');
}

describe.skipIf(!PAPER_WEIGHTS || !PAPER_DATA)("init = glibc on the paper's data", () => {
  const xs = new Uint8Array(readFileSync(PAPER_DATA!));
  const paper = PAPER_WEIGHTS ? parseWeightsFile(new Uint8Array(readFileSync(PAPER_WEIGHTS))).params : new Float32Array();
  const cols = neverInput(xs);

  it('has 204 never-input bytes (26,112 Wx values)', () => {
    expect(xs.length).toBe(1024);
    expect(cols.length).toBe(204);
  });

  it("equals sat_model.bin bit for bit in those columns at init, and only there", () => {
    const p = initParams(H, 42, 'glibc');
    expect(unseenDiff(p, paper, cols)).toEqual({ n: 26112, differ: 0 });
    // a byte that is read gets trained: its columns differ from the init
    const seen = Array.from({ length: V }, (_, v) => v).filter((v) => !cols.includes(v));
    expect(unseenDiff(p, paper, seen).differ).toBeGreaterThan(0.99 * seen.length * H);
    // another seed or the other PRNG does not match
    expect(unseenDiff(initParams(H, 43, 'glibc'), paper, cols).differ).toBeGreaterThan(26000);
    expect(unseenDiff(initParams(H, 42, 'mulberry32'), paper, cols).differ).toBeGreaterThan(26000);
  });

  it('still equals it there after a few epochs of the default recipe (best and final weights, each kernel)', () => {
    for (const backend of ['auto', 'ts'] as const) {
      const r = train(xs, { hidden: H, epochs: 3, optimizer: 'sgd', init: 'glibc', seed: 42, bptt: 50, evalEvery: 1 }, { backend });
      expect(r.curveTrainBpc[2]).toBeLessThan(r.curveTrainBpc[0]); // it did train
      expect(unseenDiff(r.params, paper, cols), r.kernel).toEqual({ n: 26112, differ: 0 });
      expect(unseenDiff(r.finalParams, paper, cols), r.kernel).toEqual({ n: 26112, differ: 0 });
      expect(r.evalEpochs).toEqual([1, 2, 3]);
    }
  }, 30_000); // H = 128 trained twice: about 3 s of CPU
});

describe('the sgd schedule in the driver', () => {
  it('is lr_e = max(1e-4, 0.01·½(1 + cos(π e/E))) in epoch e = 1..E, one clipped step per chunk', () => {
    const xs = randomBytes(70, 5);
    const h = 8;
    const E = 3;
    const bptt = 20;
    const r = train(xs, { hidden: h, epochs: E, optimizer: 'sgd', init: 'glibc', seed: 9, bptt, evalEvery: 1 }, { backend: 'naive' });
    // the same run written out from docs/definitions.md §2 with the naive pieces
    const p = initParams(h, 9, 'glibc');
    const g = new Float32Array(p.length);
    const s = new Float32Array(h);
    for (let e = 1; e <= E; e++) {
      s.fill(0);
      const lr = Math.max(1e-4, 0.01 * 0.5 * (1 + Math.cos((Math.PI * e) / E)));
      expect(sgdLearningRate(e, E)).toBe(lr);
      for (let start = 0; start < xs.length - 1; start += bptt) {
        g.fill(0);
        chunkGradNaive(g, s, p, h, xs, start, Math.min(bptt, xs.length - 1 - start), DEFAULT_FLOOR);
        sgdStep(p, g, clipScale(gradSumSq(g)), lr);
      }
    }
    expect(Buffer.from(r.finalParams.buffer).equals(Buffer.from(p.buffer))).toBe(true);
  });
});
