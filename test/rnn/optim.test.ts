import { describe, expect, it } from 'vitest';
import { ADAM, adamStep, clipScale, gradSumSq, sgdLearningRate, sgdStep } from '../../lib/rnn/optim.ts';

describe('gradient clipping', () => {
  it('scales a norm-10 gradient to norm 5 and leaves a norm-3 one alone', () => {
    const g = new Float64Array([6, 8]);
    expect(gradSumSq(g)).toBe(100);
    expect(clipScale(100)).toBe(0.5);
    expect(clipScale(9)).toBe(1);
    expect(clipScale(25)).toBe(1); // exactly 5 is not clipped
  });
});

describe('adam', () => {
  it('moves every weight by about lr against the sign of its gradient on the first step', () => {
    const p = new Float64Array([1, 1, 1]);
    const g = new Float64Array([3, -0.5, 0]);
    const m = new Float64Array(3);
    const v = new Float64Array(3);
    adamStep(p, g, m, v, 1, 1);
    // m̂ = g, v̂ = g², step = lr g / (|g| + ε)
    expect(p[0]).toBeCloseTo(1 - ADAM.lr, 10);
    expect(p[1]).toBeCloseTo(1 + ADAM.lr, 10);
    expect(p[2]).toBe(1);
    expect(m[0]).toBeCloseTo(0.3, 12);
    expect(v[0]).toBeCloseTo(0.009, 12);
  });

  it('applies the clip scale to the gradient before the moments', () => {
    const p = new Float64Array([0]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    adamStep(p, new Float64Array([4]), m, v, 0.5, 1);
    expect(m[0]).toBeCloseTo(0.2, 12);
    expect(v[0]).toBeCloseTo(0.004, 12);
  });

  it('bias-corrects with the step number: a constant gradient keeps a step of ~lr', () => {
    const p = new Float64Array([0]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    for (let t = 1; t <= 10; t++) adamStep(p, new Float64Array([2]), m, v, 1, t);
    expect(p[0]).toBeCloseTo(-10 * ADAM.lr, 8);
  });
});

describe('sgd', () => {
  it('steps by lr times the clipped gradient', () => {
    const p = new Float64Array([1, 2]);
    sgdStep(p, new Float64Array([1, -2]), 0.5, 0.1);
    expect(p[0]).toBeCloseTo(0.95, 12);
    expect(p[1]).toBeCloseTo(2.1, 12);
  });

  it('follows the cosine schedule from 0.01 down to the 1e-4 floor', () => {
    expect(sgdLearningRate(0, 100)).toBeCloseTo(0.01, 15);
    expect(sgdLearningRate(50, 100)).toBeCloseTo(0.005, 15);
    expect(sgdLearningRate(100, 100)).toBe(1e-4);
    expect(sgdLearningRate(1, 4000)).toBeLessThan(0.01);
  });
});
