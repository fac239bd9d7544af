// The seeded PRNG behind the weight init (SPEC §2: "a documented seeded PRNG").
//
// mulberry32 (Tommy Ettinger, public domain): a 32-bit state advanced by the Weyl
// increment 0x6D2B79F5 and mixed by two multiply-xorshift rounds. The state starts at the
// seed as an unsigned 32-bit integer (`seed >>> 0`; seed 42 -> state 42) and each call
// returns the mixed 32-bit output divided by 2^32: a float64 in [0, 1) with 32 random bits.
// All arithmetic is unsigned 32-bit (Math.imul, >>> 0), so every JS engine gives the same
// stream. First three draws for seed 42 (tested): 0.6011037519201636,
// 0.44829055899754167, 0.8524657934904099.

export interface Prng {
  /** Next U uniform in [0, 1). */
  next(): number;
}

export function mulberry32(seed: number): Prng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
