// Tensor files describe themselves: msgpack of { format, dtype, shape, data } where data
// is the raw little-endian bytes (a msgpack bin), never an array of numbers. The decoder
// checks format, dtype, shape and byte length before use, and copies the bytes into a
// fresh, aligned typed array (msgpackr hands back a Buffer view that may be misaligned),
// or, when the caller owns the buffer, aligns them in place (decodeTensor's `owned`).

import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import type { DType, Tensor, TypedArray } from '../types.ts';

export const TENSOR_FORMAT = 'total-interp/tensor@1';

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
} as const;

// msgpackr is loaded on first use: a no-op run reads no tensor and should not pay for it.
let packrInstance: Packr | null = null;
function packr(): Packr {
  if (!packrInstance) {
    const { Packr: P } = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr');
    packrInstance = new P({ useRecords: false, moreTypes: false });
  }
  return packrInstance;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('total-interp needs a little-endian machine (tensor files are little-endian)');
}

export function dtypeOf(a: TypedArray): DType {
  for (const [name, C] of Object.entries(CTORS)) if (a instanceof C) return name as DType;
  throw new Error(`unsupported typed array ${Object.prototype.toString.call(a)}`);
}

export function checkTensor(t: Tensor, where: string): void {
  const C = CTORS[t.dtype];
  if (!C) throw new Error(`${where}: unknown dtype "${t.dtype}" (expected one of ${Object.keys(CTORS).join(', ')})`);
  if (!(t.data instanceof C)) throw new Error(`${where}: dtype ${t.dtype} but data is ${t.data?.constructor?.name}`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new Error(`${where}: shape ${JSON.stringify(t.shape)} holds ${n} values, data has ${t.data.length}`);
}

export function encodeTensor(t: Tensor): Uint8Array {
  checkTensor(t, 'encodeTensor');
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return packr().pack({ format: TENSOR_FORMAT, dtype: t.dtype, shape: t.shape, data: bytes });
}

/**
 * A tensor file's record, checked (format, dtype, shape, byte length). The data is a fresh,
 * aligned copy; with `owned` (the caller hands `buf` over and never reads it again, as a
 * store read's fresh buffer) it stays in `buf`'s memory instead: viewed where it lies
 * when that is aligned for its dtype, else moved down within `buf` (over the record's
 * header, which precedes the data) to the nearest aligned offset. A tensor of hundreds of
 * MB then costs its file's bytes once, not twice.
 */
export function decodeTensor(buf: Uint8Array, where = 'tensor', opts: { owned?: boolean } = {}): Tensor {
  let obj: any;
  try {
    obj = packr().unpack(buf);
  } catch (e) {
    throw new Error(`${where}: not a valid msgpack tensor (${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object') throw new Error(`${where}: expected a tensor record, got ${typeof obj}`);
  if (obj.format !== TENSOR_FORMAT) throw new Error(`${where}: format ${JSON.stringify(obj.format)}, expected ${TENSOR_FORMAT}`);
  const C = CTORS[obj.dtype as DType];
  if (!C) throw new Error(`${where}: unknown dtype ${JSON.stringify(obj.dtype)}`);
  const raw: Uint8Array = obj.data;
  if (!(raw instanceof Uint8Array)) throw new Error(`${where}: data is not binary`);
  const shape: number[] = obj.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: bad shape ${JSON.stringify(shape)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (raw.byteLength !== n * C.BYTES_PER_ELEMENT) {
    throw new Error(`${where}: shape ${JSON.stringify(shape)} of ${obj.dtype} needs ${n * C.BYTES_PER_ELEMENT} bytes, data has ${raw.byteLength}`);
  }
  const align = C.BYTES_PER_ELEMENT;
  const at = raw.byteOffset - (raw.byteOffset % align);
  if (opts.owned && raw.buffer === buf.buffer && at >= buf.byteOffset) {
    if (at !== raw.byteOffset) new Uint8Array(raw.buffer).copyWithin(at, raw.byteOffset, raw.byteOffset + raw.byteLength);
    return { dtype: obj.dtype, shape, data: new C(raw.buffer as ArrayBuffer, at, n) as TypedArray };
  }
  const copy = new Uint8Array(raw.byteLength); // fresh ArrayBuffer: aligned for any dtype
  copy.set(raw);
  return { dtype: obj.dtype, shape, data: new C(copy.buffer) as TypedArray };
}

/** A tensor file's dtype and shape, checked as decodeTensor checks them, without copying its data. */
export function tensorHeader(buf: Uint8Array, where = 'tensor'): { dtype: DType; shape: number[] } {
  let obj: any;
  try {
    obj = packr().unpack(buf);
  } catch (e) {
    throw new Error(`${where}: not a valid msgpack tensor (${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object' || obj.format !== TENSOR_FORMAT) throw new Error(`${where}: not a ${TENSOR_FORMAT} record`);
  const C = Object.hasOwn(CTORS, obj.dtype) ? CTORS[obj.dtype as DType] : null;
  const shape: number[] = obj.shape;
  if (!C || !(obj.data instanceof Uint8Array) || !Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: bad dtype, shape or data`);
  if (obj.data.byteLength !== shape.reduce((a, b) => a * b, 1) * C.BYTES_PER_ELEMENT) throw new Error(`${where}: shape ${JSON.stringify(shape)} does not match its ${obj.data.byteLength} bytes of data`);
  return { dtype: obj.dtype, shape };
}

/** Convenience: wrap a typed array as a tensor (1-D unless a shape is given). */
export function tensor<A extends TypedArray>(data: A, shape: number[] = [data.length]): Tensor<A> {
  return { dtype: dtypeOf(data), shape, data };
}
