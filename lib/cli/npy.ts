// NumPy .npy format, version 1.0: magic "\x93NUMPY", version 1 0, a little-endian uint16
// header length, an ASCII Python dict literal (descr, fortran_order, shape) padded with
// spaces to a multiple of 64 bytes and ended by "\n", then the raw little-endian data.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import type { DType, Tensor } from '../engine/types.ts';

const DESCR: Record<DType, string> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  uint32: '<u4',
  int16: '<i2',
  uint16: '<u2',
  int8: '|i1',
  uint8: '|u1',
};

export function npyHeader(dtype: DType, shape: readonly number[]): Uint8Array {
  return npyHeaderDescr(DESCR[dtype], shape);
}

/** A .npy v1.0 header for any NumPy dtype string ('<f4', '<U12', …). */
export function npyHeaderDescr(descr: string, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const pre = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(Buffer.from(dict, 'latin1'), pre);
  return out;
}

/** A tensor as the bytes of a .npy file (the engine's tensors are row-major little-endian). */
export function toNpy(t: Tensor): Uint8Array {
  if (!(t.dtype in DESCR)) throw new Error(`no .npy dtype for ${t.dtype}`);
  const head = npyHeader(t.dtype, t.shape);
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** Parse a .npy v1.0 header: dtype descr, shape and the data offset (for tests and checks). */
export function parseNpyHeader(bytes: Uint8Array): { descr: string; fortranOrder: boolean; shape: number[]; offset: number } {
  if (bytes[0] !== 0x93 || Buffer.from(bytes.subarray(1, 6)).toString('latin1') !== 'NUMPY') throw new Error('not a .npy file');
  if (bytes[6] !== 1 || bytes[7] !== 0) throw new Error(`.npy version ${bytes[6]}.${bytes[7]}, expected 1.0`);
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  const dict = Buffer.from(bytes.subarray(10, 10 + len)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || !fortran || shape === undefined) throw new Error(`bad .npy header: ${dict}`);
  return {
    descr,
    fortranOrder: fortran === 'True',
    shape: shape.split(',').map((s) => s.trim()).filter(Boolean).map(Number),
    offset: 10 + len,
  };
}

/**
 * A string as a 0-d NumPy unicode array (dtype '<U{n}', UTF-32LE): numpy.load reads it
 * without pickle, and `str(a)` (or `a.item()`) gives the string back.
 */
export function stringNpy(s: string): Uint8Array {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  const n = Math.max(1, cps.length);
  const head = npyHeaderDescr(`<U${n}`, []);
  const out = new Uint8Array(head.length + 4 * n);
  out.set(head);
  const dv = new DataView(out.buffer, head.length);
  cps.forEach((c, i) => dv.setUint32(4 * i, c, true));
  return out;
}
