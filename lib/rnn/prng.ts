// The seeded PRNGs behind the weight init (docs/definitions.md §2, param train.init).
//
// glibcRand: the authors' released trainer calls srand(seed) and rand() from glibc, so
// this is glibc's random_r for the default TYPE_3 state (degree 31, separation 3),
// reproduced exactly:
//   r[0] = seed (srand(0) means seed 1; the seed is stored as an int32)
//   r[i] = (16807 · r[i-1]) % 2147483647 for i = 1..30, computed as glibc does (Schrage:
//          hi = r / 127773, lo = r % 127773, r = 16807·lo - 2836·hi, + 2147483647 if < 0)
//   r[i] = r[i-31] for i = 31..33
//   r[i] = r[i-31] + r[i-3] (mod 2^32) for i ≥ 34
//   rand() number k (k = 0, 1, …) is r[344 + k] >>> 1, in 0..RAND_MAX = 2^31 - 1.
// First outputs (compared with glibc's own rand() in test/rnn/prng.test.ts): seed 1 ->
// 1804289383, 846930886, …; seed 42 -> 71876166, 708592740, ….
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

/** glibc's srand(seed) then rand(): returns the integer stream 0..RAND_MAX. */
export function glibcRand(seed: number): () => number {
  const DEG = 31;
  const SEP = 3;
  const r = new Int32Array(DEG); // ring buffer: r[i] lives at i % 31
  let word = seed >>> 0 === 0 ? 1 : seed | 0; // srandom_r: seed 0 -> 1; int32_t state[0] = seed
  r[0] = word;
  for (let i = 1; i < DEG; i++) {
    const hi = (word / 127773) | 0; // C division truncates toward 0, like | 0
    const lo = word % 127773; // JS % has the sign of the dividend, like C
    word = 16807 * lo - 2836 * hi; // |·| < 2^31: exact in float64
    if (word < 0) word += 2147483647;
    r[i] = word;
  }
  // i = 31..33 copy r[i-31], i.e. the ring slot already holds it; from 34 on r[i] =
  // r[i-31] + r[i-3]. Rather than special-case 31..33, walk i from 31 with the ring: slots
  // i % 31 for i = 31..33 are r[0..2] unchanged.
  let i = 34;
  const step = (): number => {
    const k = i % DEG;
    const v = (r[k] + r[(i - SEP) % DEG]) | 0; // r[i-31] is the slot's old value; mod 2^32
    r[k] = v;
    i++;
    return v >>> 1; // uint32 sum >> 1 (glibc: (val >> 1) & 0x7fffffff)
  };
  while (i < 344) step();
  return step;
}
