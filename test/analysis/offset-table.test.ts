import { describe, expect, it } from 'vitest';
import { columnMeans } from '../../lib/analysis/offset-table.ts';

describe('per-(T, d) tables', () => {
  it('average each offset over positions, signed and absolute', () => {
    const M = Float64Array.from([1, -2, /**/ 3, 4, /**/ -1, 0]); // (nT, D) = (3, 2)
    const { mean, meanAbs } = columnMeans(M, 2);
    expect(mean).toEqual([1, 2 / 3]);
    expect(meanAbs).toEqual([5 / 3, 2]);
  });

  it('give zeros for an empty table', () => {
    expect(columnMeans(new Float64Array(0), 3)).toEqual({ mean: [0, 0, 0], meanAbs: [0, 0, 0] });
  });
});
