import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../lib/rnn/prng.ts';

describe('mulberry32', () => {
  it('gives the documented first draws for seed 42', () => {
    const r = mulberry32(42);
    expect([r.next(), r.next(), r.next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('stays in [0, 1) with mean near 1/2, and different seeds give different streams', () => {
    const r = mulberry32(7);
    let s = 0;
    for (let i = 0; i < 10000; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 10000 - 0.5)).toBeLessThan(0.01);
    expect(mulberry32(1).next()).not.toBe(mulberry32(2).next());
  });
});
