// The per-(T, d) tables of §5.1 (gradient attribution, ablation): row T - firstT, column
// offset d, (nT, D) row-major: M[(T - firstT)*D + d]. Their summaries by offset.

/** Column means of an (nT, D) table, and of its absolute values. */
export function columnMeans(M: Float64Array, D: number): { mean: number[]; meanAbs: number[] } {
  const nT = M.length / D;
  const mean = new Array<number>(D).fill(0);
  const meanAbs = new Array<number>(D).fill(0);
  for (let i = 0; i < nT; i++) {
    for (let d = 0; d < D; d++) {
      mean[d] += M[i * D + d];
      meanAbs[d] += Math.abs(M[i * D + d]);
    }
  }
  for (let d = 0; d < D; d++) {
    mean[d] /= nT || 1;
    meanAbs[d] /= nT || 1;
  }
  return { mean, meanAbs };
}
