import { describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor, tensor } from '../../lib/engine/keep/tensor.ts';
import { Packr } from 'msgpackr';

describe('tensor codec', () => {
  it('round-trips every dtype bit-exactly into aligned typed arrays', () => {
    const arrays = [
      new Float32Array([1.5, -0, NaN, Infinity, 3.4028234663852886e38]),
      new Float64Array([Math.PI, -1e-300, 5e-324]),
      new Int32Array([-1, 2 ** 31 - 1]),
      new Uint8Array([0, 255, 7]),
      new Uint16Array([65535]),
      new Int8Array([-128]),
    ];
    for (const a of arrays) {
      const back = decodeTensor(encodeTensor(tensor(a)));
      expect(back.data.constructor).toBe(a.constructor);
      expect(back.data.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(Buffer.from(a.buffer));
    }
  });
  it('owned: the data stays in the caller\'s buffer (moved to an aligned offset when it is not), the same bits as the copy', () => {
    const arrays = [new Float32Array([1.5, -0, NaN, 7]), new Float64Array([Math.PI, -1e-300, 5e-324]), new Int32Array([-1, 2 ** 31 - 1]), new Uint8Array([0, 255, 7]), new Int16Array([-3, 4])];
    for (const a of arrays) {
      const enc = encodeTensor(tensor(a));
      for (let shift = 0; shift < 8; shift++) {
        // the record at every offset in a larger buffer, as a store read or a pool slice may place it
        const mem = new Uint8Array(enc.byteLength + 16);
        const buf = mem.subarray(shift, shift + enc.byteLength);
        buf.set(enc);
        const copy = decodeTensor(buf.slice());
        const own = decodeTensor(buf, 'owned', { owned: true });
        expect(own.data.buffer).toBe(mem.buffer); // not copied
        expect(own.data.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
        expect(own.data.byteOffset).toBeGreaterThanOrEqual(buf.byteOffset);
        expect(Buffer.from(own.data.buffer, own.data.byteOffset, own.data.byteLength)).toEqual(Buffer.from(copy.data.buffer, copy.data.byteOffset, copy.data.byteLength));
        expect(own.shape).toEqual(copy.shape);
      }
    }
  });
  it('stores raw bytes, not an array of numbers', () => {
    const bytes = encodeTensor(tensor(new Float64Array(1000).fill(0.1), [10, 100]));
    expect(bytes.byteLength).toBeLessThan(8000 + 200);
    const raw = new Packr({ useRecords: false }).unpack(bytes);
    expect(raw.data).toBeInstanceOf(Uint8Array);
    expect(raw.shape).toEqual([10, 100]);
    expect(raw.dtype).toBe('float64');
  });
  it('rejects a wrong format, shape or length with a clear error', () => {
    const p = new Packr({ useRecords: false });
    expect(() => decodeTensor(p.pack({ format: 'other', dtype: 'float32', shape: [1], data: new Uint8Array(4) }))).toThrow(/format "other"/);
    expect(() => decodeTensor(p.pack({ format: 'total-interp/tensor@1', dtype: 'float32', shape: [2], data: new Uint8Array(4) }))).toThrow(/needs 8 bytes, data has 4/);
    expect(() => decodeTensor(p.pack({ format: 'total-interp/tensor@1', dtype: 'complex', shape: [1], data: new Uint8Array(4) }))).toThrow(/unknown dtype/);
    expect(() => encodeTensor({ dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow(/holds 3 values, data has 2/);
  });
});
