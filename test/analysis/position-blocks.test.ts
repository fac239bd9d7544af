import { describe, expect, it } from 'vitest';
import { blockPositions, positionBlocks } from '../../lib/analysis/position-blocks.ts';

describe('positionBlocks', () => {
  it('is the whole range, one block, when it fits (the definition at N = 1024)', () => {
    expect(positionBlocks(50, 1021, 4096, 256)).toEqual({ blocks: [[50, 1021]], count: 972, of: 972, sampled: false });
    expect(positionBlocks(50, 1021, 972, 256).sampled).toBe(false);
  });

  it('samples floor(max / B) blocks of B consecutive T, first at firstT, last ending at lastT, none overlapping', () => {
    for (const [first, last, max, B] of [[50, 65533, 4096, 256], [50, 1021, 971, 256], [0, 999, 10, 3], [5, 7, 2, 5], [0, 100, 50, 1]]) {
      const pb = positionBlocks(first, last, max, B);
      const b = Math.min(B, max);
      const k = Math.floor(max / b);
      expect(pb.sampled).toBe(true);
      expect(pb.blocks.length).toBe(k);
      expect(pb.count).toBe(k * b);
      expect(pb.of).toBe(last - first + 1);
      expect(pb.blocks[0][0]).toBe(first);
      if (k > 1) expect(pb.blocks.at(-1)![1]).toBe(last);
      const Ts = [...blockPositions(pb)];
      expect(Ts.length).toBe(pb.count);
      for (let i = 1; i < Ts.length; i++) expect(Ts[i]).toBeGreaterThan(Ts[i - 1]);
      expect(Ts.every((T) => T >= first && T <= last)).toBe(true);
    }
  });

  it('refuses an empty range or a zero size', () => {
    expect(() => positionBlocks(10, 9, 5, 2)).toThrow(/empty range/);
    expect(() => positionBlocks(0, 9, 0, 2)).toThrow(/must be ≥ 1/);
  });
});
