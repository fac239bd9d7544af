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
// Per unit: its state S[t][j] and its carrier c_t[j] along the text (int8 S·127; int16 at a
// scale), its Table 1 pair and R², its PS count and, when the §6.2 stage has run, its
// pattern table.
//
// A window: the page embeds bytes [offset, offset + length) of the text, not all of it (a
// long text would make a page of hundreds of MB), and says so. Positions keep their number
// in the text (t is absolute); the per-position arrays hold the window's positions, those
// whose next byte is in the window.

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
  /** (N × H) carrier c_t = Wh·S[t-1] + bh (docs/definitions.md §5, eq. 5). */
  carrier?: ArrayLike<number>;
  /** The bytes the page embeds: [offset, offset + length) of the text (default: all of it). */
  window?: { offset: number; length: number };
}

/** How many next-byte predictions the viewer lists at a position. */
export const TOP_K = 5;

export interface ViewerData {
  label: string;
  /** Bytes in the window; the window's local index i is position t = offset + i of the text. */
  N: number;
  H: number;
  /** The paper's example position, in the text. */
  position: number;
  /** The window: its first byte in the text, the text's length, and what the params asked for. */
  offset: number;
  textBytes: number;
  requested: { offset: number; length: number };
  /** The window's bytes, as byte values. */
  bytes: number[];
  quantities: Record<'actualBits' | 'carrierOnlyBits' | 'patternGain' | 'psCount', number[]>;
  decomposition: { source: string; k: number; carrier: number[]; pattern: number[]; total: number[]; topUnits: number[]; topContrib: number[] };
  /** eq. 7 rows for the window's positions T = firstT.., and the positions the stage computed (in the text). */
  influence: { firstT: number; D: number; values: number[]; computed: [number, number] } | null;
  /** (N × H) PS mask, one bit per (t, j), row-major, base64. */
  psBits: string;
  /** (N × H) states as int8 round(S·127), base64. */
  states: string;
  /** (N × H) carriers as int16 round(c / scale), little-endian, base64 (scale: max |c| / 32767). */
  carriers: { scale: number; data: string } | null;
  units: { unit: number; pair: [number, number] | null; r2: number | null; psCount: number }[];
  patternTables: Record<string, unknown> | null;
  /** Per position t < N-1, the k most probable next bytes and their probabilities (4 decimals), row-major (T × k). */
  topk: { k: number; bytes: number[]; probs: number[] } | null;
}

/**
 * The k most probable next bytes at positions from..from+T-1 of (N × 256) log-probabilities;
 * ties to the lower byte. One pass over the bytes per position keeps the best k in order
 * (a byte enters only when strictly more probable than the k-th, so of equal ones the lower
 * stays first): topNextNaive's bytes, without sorting all 256.
 */
export function topNext(logp: ArrayLike<number>, T: number, k: number, from = 0): { bytes: number[]; probs: number[] } {
  for (let t = from; t < from + T; t++) for (let o = 0; o < 256; o++) if (Number.isNaN(logp[t * 256 + o])) return topNextNaive(logp, T, k, from);
  const bytes: number[] = [];
  const probs: number[] = [];
  const m = Math.min(k, 256);
  const best = new Int32Array(m);
  for (let t = from; t < from + T; t++) {
    const row = t * 256;
    let n = 0;
    for (let o = 0; o < 256; o++) {
      const v = logp[row + o];
      if (n === m && !(v > logp[row + best[m - 1]])) continue;
      let i = n < m ? n++ : m - 1;
      while (i > 0 && v > logp[row + best[i - 1]]) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = o;
    }
    for (let i = 0; i < n; i++) {
      bytes.push(best[i]);
      probs.push(round(Math.exp(logp[row + best[i]]), 4));
    }
  }
  return { bytes, probs };
}

/** Naive twin of topNext: sort all 256 bytes per position (ties to the lower byte). */
export function topNextNaive(logp: ArrayLike<number>, T: number, k: number, from = 0): { bytes: number[]; probs: number[] } {
  const bytes: number[] = [];
  const probs: number[] = [];
  const idx = Array.from({ length: 256 }, (_, o) => o);
  for (let t = from; t < from + T; t++) {
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

/** Carriers as int16 at one scale (max |c| / 32767: the largest keeps 15 bits), base64. */
export function packCarriers(c: ArrayLike<number>): { scale: number; data: string } {
  let m = 0;
  for (let i = 0; i < c.length; i++) if (Number.isFinite(c[i])) m = Math.max(m, Math.abs(c[i]));
  const scale = m > 0 ? m / 32767 : 1;
  const out = new Int16Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = Number.isFinite(c[i]) ? Math.round(c[i] / scale) : 0;
  const le = Buffer.alloc(out.length * 2);
  for (let i = 0; i < out.length; i++) le.writeInt16LE(out[i], 2 * i);
  return { scale, data: le.toString('base64') };
}

/** Bytes [offset, offset + length) of a text of N bytes, moved back to fit when it runs past the end. */
export function viewerWindow(N: number, w: { offset: number; length: number } | undefined): { from: number; to: number } {
  if (!w) return { from: 0, to: N };
  const length = Math.min(N, Math.max(2, w.length));
  const from = Math.max(0, Math.min(w.offset, N - length));
  return { from, to: from + length };
}

/** A slice of an array-like, as numbers. */
const part = (a: ArrayLike<number>, from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => a[from + i]);

export function viewerData(v: ViewerInput): ViewerData {
  const textN = v.bytes.length;
  const H = v.H;
  const textT = Math.max(0, textN - 1);
  for (const [name, a, n] of [
    ['S', v.S, textN * H],
    ['ps', v.ps, textN * H],
    ['actualBits', v.actualBits, textT],
    ['carrierOnlyBits', v.carrierOnlyBits, textT],
    ['decomposition.carrier', v.decomposition.carrier, textT],
    ['decomposition.topUnits', v.decomposition.topUnits, textT * v.decomposition.k],
    ...(v.carrier ? [['carrier', v.carrier, textN * H] as const] : []),
  ] as const) {
    if (a.length !== n) throw new Error(`viewer: ${name} has ${a.length} entries, expected ${n} (N = ${textN}, H = ${H})`);
  }
  // The window: bytes a..b-1, positions a..a+T-1 (their next byte in the window).
  const { from: a, to: b } = viewerWindow(textN, v.window);
  const N = b - a;
  const T = Math.max(0, N - 1);
  const psCount = new Array<number>(T).fill(0);
  for (let i = 0; i < T; i++) for (let j = 0; j < H; j++) psCount[i] += v.ps[(a + i) * H + j] ? 1 : 0;
  const gain = Array.from({ length: T }, (_, i) => v.carrierOnlyBits[a + i] - v.actualBits[a + i]);
  const d = v.decomposition;
  const k = d.k;
  const inf = v.influence;
  // eq. 7 rows for T = firstT..: those in the window
  const infFrom = inf ? Math.max(inf.firstT, a) : 0;
  const infTo = inf ? Math.min(inf.firstT + inf.values.length / Math.max(1, inf.D), a + T) : 0;
  return {
    label: v.label,
    N,
    H,
    position: v.position,
    offset: a,
    textBytes: textN,
    requested: v.window ? { offset: v.window.offset, length: v.window.length } : { offset: 0, length: textN },
    bytes: Array.from(v.bytes.subarray(a, b)),
    quantities: {
      actualBits: rounded(part(v.actualBits, a, a + T), 4),
      carrierOnlyBits: rounded(part(v.carrierOnlyBits, a, a + T), 4),
      patternGain: rounded(gain, 4),
      psCount,
    },
    decomposition: {
      source: d.source,
      k,
      carrier: rounded(part(d.carrier, a, a + T), 4),
      pattern: rounded(part(d.pattern, a, a + T), 4),
      total: rounded(part(d.total, a, a + T), 4),
      topUnits: part(d.topUnits, a * k, (a + T) * k),
      topContrib: rounded(part(d.topContrib, a * k, (a + T) * k), 4),
    },
    influence: inf
      ? {
          firstT: infFrom,
          D: inf.D,
          values: infTo > infFrom ? rounded(part(inf.values, (infFrom - inf.firstT) * inf.D, (infTo - inf.firstT) * inf.D), 3) : [],
          computed: [inf.firstT, inf.firstT + inf.values.length / Math.max(1, inf.D) - 1],
        }
      : null,
    psBits: packBits(part(v.ps, a * H, b * H)),
    states: packStates(part(v.S, a * H, b * H)),
    carriers: v.carrier ? packCarriers(part(v.carrier, a * H, b * H)) : null,
    units: Array.from({ length: H }, (_, j) => {
      const p = v.pairs[j];
      return { unit: j, pair: p ? ([p.d1, p.d2] as [number, number]) : null, r2: p ? round(p.r2, 4) : null, psCount: v.psCountPerUnit[j] ?? 0 };
    }),
    patternTables: v.patternTables,
    topk: v.logp && v.logp.length >= textT * 256 ? { k: TOP_K, ...topNext(v.logp, T, TOP_K, a) } : null,
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
