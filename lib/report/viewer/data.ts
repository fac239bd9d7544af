// The data the per-position viewer embeds: plain arrays assembled from the
// stage outputs, rounded to what the viewer shows, so viewer.html stays small (~0.5 MB of
// data for N = 1024, H = 128). Pure: no I/O, no analysis kernels (the viewer stage hands in
// the §5.4 decomposition, from the decomposition stage's tensors when it has them, else
// computed by the stage itself).
//
// Positions t = 0..N-2 predict x_{t+1}. Per position: actual bits, carrier-only bits,
// pattern gain (their difference), number of pattern-sensitive (PS) units, the §5.4
// decomposition (carrier, pattern, total logit; top units by |Wy[o][j]·δ_t[j]|), and the
// eq. 7 influence of the previous bytes where the influence stage computed it.
// Per unit: its state S[t][j] along the text (int8, S·127), its Table 1 pair and R², its PS
// count and, when the §6.2 stage has run, its pattern table.

export interface Decomposition {
  /** Where the numbers come from: "decomposition stage" or "viewer stage". */
  source: string;
  carrier: ArrayLike<number>;
  pattern: ArrayLike<number>;
  total: ArrayLike<number>;
  /** (T × k) unit ids, -1 for none, and their contributions Wy[o][j]·δ_t[j]. */
  topUnits: ArrayLike<number>;
  topContrib: ArrayLike<number>;
  k: number;
}

export interface ViewerInput {
  label: string;
  bytes: Uint8Array;
  H: number;
  /** (N × H) float32 states of the trace. */
  S: ArrayLike<number>;
  /** (N × H) 1 where unit j is PS at t. */
  ps: ArrayLike<number>;
  /** (N-1) bits of x_{t+1}: the model, and the carrier-only state. */
  actualBits: ArrayLike<number>;
  carrierOnlyBits: ArrayLike<number>;
  decomposition: Decomposition;
  /** (count × D) eq. 7 influence for T = firstT..firstT+count-1, offsets d = 0..D-1. */
  influence: { firstT: number; D: number; values: ArrayLike<number> } | null;
  /** Per unit: Table 1 pair (state offsets) and its R². */
  pairs: ({ d1: number; d2: number; r2: number } | null)[];
  psCountPerUnit: number[];
  /** The paper's example position (the decomposition stage's param). */
  position: number;
  /** The §6.2 pattern tables, when present, by unit (any JSON the stage gives). */
  patternTables: Record<string, unknown> | null;
  /** (N × 256) natural-log next-byte probabilities of the trace (for the top-k predictions). */
  logp?: ArrayLike<number>;
}

/** How many next-byte predictions the viewer lists at a position. */
export const TOP_K = 5;

export interface ViewerData {
  label: string;
  N: number;
  H: number;
  position: number;
  /** The text, as byte values. */
  bytes: number[];
  quantities: Record<'actualBits' | 'carrierOnlyBits' | 'patternGain' | 'psCount', number[]>;
  decomposition: { source: string; k: number; carrier: number[]; pattern: number[]; total: number[]; topUnits: number[]; topContrib: number[] };
  influence: { firstT: number; D: number; values: number[] } | null;
  /** (N × H) PS mask, one bit per (t, j), row-major, base64. */
  psBits: string;
  /** (N × H) states as int8 round(S·127), base64. */
  states: string;
  units: { unit: number; pair: [number, number] | null; r2: number | null; psCount: number }[];
  patternTables: Record<string, unknown> | null;
  /** Per position t < N-1, the k most probable next bytes and their probabilities (4 decimals), row-major (T × k). */
  topk: { k: number; bytes: number[]; probs: number[] } | null;
}

/** The k most probable next bytes at each of T positions from (T × 256) log-probabilities; ties to the lower byte. */
export function topNext(logp: ArrayLike<number>, T: number, k: number): { bytes: number[]; probs: number[] } {
  const bytes: number[] = [];
  const probs: number[] = [];
  const idx = Array.from({ length: 256 }, (_, o) => o);
  for (let t = 0; t < T; t++) {
    const row = t * 256;
    const best = idx.slice().sort((a, b) => logp[row + b] - logp[row + a] || a - b).slice(0, k);
    for (const o of best) {
      bytes.push(o);
      probs.push(round(Math.exp(logp[row + o]), 4));
    }
  }
  return { bytes, probs };
}

const round = (x: number, d: number) => {
  if (!Number.isFinite(x)) return x > 0 ? 1e308 : x < 0 ? -1e308 : 0;
  const f = 10 ** d;
  return Math.round(x * f) / f;
};
const rounded = (a: ArrayLike<number>, d: number) => Array.from(a, (x) => round(x, d));

/** (rows × cols) 0/1 mask packed 8 per byte, row-major, base64. */
export function packBits(mask: ArrayLike<number>): string {
  const out = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >> 3] |= 1 << (i & 7);
  return Buffer.from(out).toString('base64');
}

/** Inverse of packBits (for tests; the viewer has its own). */
export function unpackBits(b64: string, n: number): Uint8Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** States in [-1, 1] as int8 round(S·127), base64. */
export function packStates(S: ArrayLike<number>): string {
  const out = new Int8Array(S.length);
  for (let i = 0; i < S.length; i++) out[i] = Math.max(-127, Math.min(127, Math.round(S[i] * 127)));
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64');
}

export function viewerData(v: ViewerInput): ViewerData {
  const N = v.bytes.length;
  const H = v.H;
  const T = Math.max(0, N - 1);
  for (const [name, a, n] of [
    ['S', v.S, N * H],
    ['ps', v.ps, N * H],
    ['actualBits', v.actualBits, T],
    ['carrierOnlyBits', v.carrierOnlyBits, T],
    ['decomposition.carrier', v.decomposition.carrier, T],
    ['decomposition.topUnits', v.decomposition.topUnits, T * v.decomposition.k],
  ] as const) {
    if (a.length !== n) throw new Error(`viewer: ${name} has ${a.length} entries, expected ${n} (N = ${N}, H = ${H})`);
  }
  const psCount = new Array<number>(T).fill(0);
  for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) psCount[t] += v.ps[t * H + j] ? 1 : 0;
  const gain = Array.from({ length: T }, (_, t) => v.carrierOnlyBits[t] - v.actualBits[t]);
  const d = v.decomposition;
  return {
    label: v.label,
    N,
    H,
    position: v.position,
    bytes: Array.from(v.bytes),
    quantities: {
      actualBits: rounded(v.actualBits, 4),
      carrierOnlyBits: rounded(v.carrierOnlyBits, 4),
      patternGain: rounded(gain, 4),
      psCount,
    },
    decomposition: {
      source: d.source,
      k: d.k,
      carrier: rounded(d.carrier, 4),
      pattern: rounded(d.pattern, 4),
      total: rounded(d.total, 4),
      topUnits: Array.from(d.topUnits),
      topContrib: rounded(d.topContrib, 4),
    },
    influence: v.influence ? { firstT: v.influence.firstT, D: v.influence.D, values: rounded(v.influence.values, 3) } : null,
    psBits: packBits(v.ps),
    states: packStates(v.S),
    units: Array.from({ length: H }, (_, j) => {
      const p = v.pairs[j];
      return { unit: j, pair: p ? ([p.d1, p.d2] as [number, number]) : null, r2: p ? round(p.r2, 4) : null, psCount: v.psCountPerUnit[j] ?? 0 };
    }),
    patternTables: v.patternTables,
    topk: v.logp && v.logp.length >= T * 256 ? { k: TOP_K, ...topNext(v.logp, T, TOP_K) } : null,
  };
}

/**
 * The §5.4 decomposition at every position from per-position unit contributions: the
 * top k units by |contribution| (zeros left out, ties to the lower unit), as the
 * decomposition stage lists them at its one position.
 */
export function topByMagnitude(contrib: ArrayLike<number>, H: number, k: number): { units: number[]; values: number[] } {
  const idx: number[] = [];
  for (let j = 0; j < H; j++) if (contrib[j] !== 0) idx.push(j);
  idx.sort((a, b) => Math.abs(contrib[b]) - Math.abs(contrib[a]) || a - b);
  const units = idx.slice(0, k);
  const values = units.map((j) => contrib[j]);
  while (units.length < k) {
    units.push(-1);
    values.push(0);
  }
  return { units, values };
}
