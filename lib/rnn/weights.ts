// The Elman RNN's parameters (paper §2, eqs. 3-4; docs/definitions.md §1).
//
// One flat Float32Array in the authors' file order, with named row-major views:
//   Wx is (H, V): Wx[i*V + v]   input byte v  -> hidden unit i
//   Wh is (H, H): Wh[i*H + j]   S[t-1]_j      -> hidden unit i
//   bh is (H)
//   Wy is (V, H): Wy[o*H + j]   hidden unit j -> output byte o
//   by is (V)
// V = 256 always. Gradients and optimizer moments mirror this buffer.

export const V = 256;

export interface Weights {
  H: number;
  /** All parameters, authors' order: Wx, Wh, bh, Wy, by. */
  params: Float32Array;
  Wx: Float32Array;
  Wh: Float32Array;
  bh: Float32Array;
  Wy: Float32Array;
  by: Float32Array;
}

/** Number of parameters for H hidden units (82,304 for H = 128). */
export function paramCount(H: number): number {
  return H * V + H * H + H + V * H + V;
}

/** Named views into a flat buffer of paramCount(H) values (any float array type). */
export function views<A extends Float32Array | Float64Array>(params: A, H: number) {
  const n = paramCount(H);
  if (params.length !== n) throw new Error(`parameter buffer has ${params.length} values, expected ${n} for H=${H}`);
  let o = 0;
  const take = (len: number) => {
    const v = params.subarray(o, o + len) as A;
    o += len;
    return v;
  };
  const Wx = take(H * V);
  const Wh = take(H * H);
  const bh = take(H);
  const Wy = take(V * H);
  const by = take(V);
  return { Wx, Wh, bh, Wy, by };
}

export function weightsFrom(params: Float32Array, H: number): Weights {
  return { H, params, ...views(params, H) };
}

export function zeroWeights(H: number): Weights {
  return weightsFrom(new Float32Array(paramCount(H)), H);
}

/** Infer H from a byte length of a weights file, or null if no H fits. */
export function hiddenForByteLength(bytes: number): number | null {
  if (bytes % 4 !== 0) return null;
  const n = bytes / 4;
  // n = H^2 + (2V + 1) H + V  ->  H = (-(2V+1) + sqrt((2V+1)^2 + 4 (n - V))) / 2
  const b = 2 * V + 1;
  const H = Math.round((-b + Math.sqrt(b * b + 4 * (n - V))) / 2);
  return H > 0 && paramCount(H) === n ? H : null;
}

/**
 * Parse a weights file in the authors' layout: little-endian float32, Wx Wh bh Wy by.
 * `H` defaults to 128; a file of any other size is an error stating both sizes.
 */
export function parseWeightsFile(bytes: Uint8Array, H = 128, where = 'weights file'): Weights {
  const expected = paramCount(H) * 4;
  if (bytes.byteLength !== expected) {
    const h = hiddenForByteLength(bytes.byteLength);
    throw new Error(
      `${where}: expected ${expected} bytes (${paramCount(H)} float32 values for H=${H}), got ${bytes.byteLength} bytes` +
        (h !== null ? ` (that size fits H=${h})` : '') +
        `\nhint: pass the authors' layout (Wx[H][256], Wh[H][H], bh[H], Wy[256][H], by[256], little-endian float32)`,
    );
  }
  const params = new Float32Array(paramCount(H));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < params.length; i++) params[i] = dv.getFloat32(4 * i, true);
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) {
      throw new Error(
        `${where}: value ${i} is not finite (${params[i]})\nhint: the file is damaged or is not float32 weights in the authors' layout (Wx Wh bh Wy by, little-endian); re-export or re-download it`,
      );
    }
  }
  return weightsFrom(params, H);
}

/** Serialize in the authors' layout (inverse of parseWeightsFile). */
export function serializeWeights(w: Weights): Uint8Array {
  const out = new Uint8Array(w.params.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < w.params.length; i++) dv.setFloat32(4 * i, w.params[i], true);
  return out;
}
