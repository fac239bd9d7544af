// Which output positions T a per-position analysis visits when the text is long.
//
// The §5 tables average over every T = firstT..lastT (docs/definitions.md §5). At N = 1024 that is 972
// positions and they are all used. Some analyses cost O(maxOffset · H²) or more per T
// (the backward gradients of Table 3 and §5.1, the §5.1 ablation), which at N = 65536 is
// minutes of plain JavaScript. Those stages take a param `maxPositions`: when the range
// holds more positions than that, they average over an evenly spread sample of it instead,
// made of contiguous blocks of `blockLength` positions (contiguous so that the ablation's
// forward runs, each serving up to maxOffset consecutive T, are shared within a block).
// The blocks start at firstT + round(i·(nT - B)/(k - 1)), i = 0..k-1, k = floor(max / B):
// the first block starts at firstT, the last ends at lastT, none overlap. With the range
// no longer than maxPositions, it is one block: the definition, unchanged.

export interface PositionBlocks {
  /** inclusive [first, last] of each block, in increasing order */
  blocks: [number, number][];
  /** positions visited (Σ block lengths) */
  count: number;
  /** positions in the full range firstT..lastT */
  of: number;
  /** true when count < of */
  sampled: boolean;
}

/** The blocks of output positions to visit in firstT..lastT, at most maxPositions of them (see above). */
export function positionBlocks(firstT: number, lastT: number, maxPositions: number, blockLength: number): PositionBlocks {
  const nT = lastT - firstT + 1;
  if (nT < 1) throw new Error(`positionBlocks: empty range ${firstT}..${lastT}`);
  if (!(maxPositions >= 1) || !(blockLength >= 1)) throw new Error(`positionBlocks: maxPositions (${maxPositions}) and blockLength (${blockLength}) must be ≥ 1`);
  if (nT <= maxPositions) return { blocks: [[firstT, lastT]], count: nT, of: nT, sampled: false };
  const B = Math.min(blockLength, maxPositions);
  const k = Math.max(1, Math.floor(maxPositions / B));
  const blocks: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const start = firstT + (k === 1 ? 0 : Math.round((i * (nT - B)) / (k - 1)));
    blocks.push([start, start + B - 1]);
  }
  return { blocks, count: k * B, of: nT, sampled: true };
}

/** The visited positions in order, as an Int32Array (count). */
export function blockPositions(pb: PositionBlocks): Int32Array {
  const out = new Int32Array(pb.count);
  let i = 0;
  for (const [a, b] of pb.blocks) for (let T = a; T <= b; T++) out[i++] = T;
  return out;
}
