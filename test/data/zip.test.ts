import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { DataError } from '../../lib/data/errors.ts';
import { firstEntryPrefix, parseLocalHeader } from '../../lib/data/zip.ts';
import { isZipMagic } from '../../lib/data/inputs.ts';
import { makeZip, pseudoBytes, pseudoText } from './fixtures.ts';

/** `buf` as a stream of `size`-byte chunks that records how much was pulled and whether it was closed. */
function chunked(buf: Uint8Array, size: number) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (let o = 0; o < buf.length; o += size) {
        const c = buf.subarray(o, Math.min(o + size, buf.length));
        state.pulled += c.length;
        yield c;
      }
    } finally {
      state.closed = true;
    }
  }
  return { stream: gen(), state };
}

async function dataError(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => null, (err) => err);
  expect(e).toBeInstanceOf(DataError);
  return e as DataError;
}

const text = pseudoText(5000);

describe('firstEntryPrefix', () => {
  it('returns the first N bytes of a deflated first entry', async () => {
    const zip = makeZip([{ name: 'enwik9', data: text }, { name: 'other', data: pseudoText(100, 9) }]);
    const { stream } = chunked(zip, 97);
    const got = await firstEntryPrefix(stream, 1000, { label: 'x.zip' });
    expect(got.entry).toBe('enwik9');
    expect(Buffer.from(got.bytes).equals(Buffer.from(text.subarray(0, 1000)))).toBe(true);
  });

  it('returns a stored entry, and a whole entry (N = its size, CRC checked)', async () => {
    for (const method of [0, 8] as const) {
      const zip = makeZip([{ name: 'e', data: text }], { method });
      for (const n of [2, 1234, text.length]) {
        const got = await firstEntryPrefix(chunked(zip, 500).stream, n, { label: 'x.zip' });
        expect(Buffer.from(got.bytes).equals(Buffer.from(text.subarray(0, n))), `method ${method} n ${n}`).toBe(true);
      }
    }
  });

  it('reads an entry whose sizes follow the data (flag bit 3), and finds its end by the deflate stream', async () => {
    const zip = makeZip([{ name: 'enwik9', data: text }], { dataDescriptor: true });
    const got = await firstEntryPrefix(chunked(zip, 64).stream, text.length, { label: 'x.zip' });
    expect(Buffer.from(got.bytes).equals(Buffer.from(text))).toBe(true);
    const e = await dataError(firstEntryPrefix(chunked(zip, 64).stream, text.length + 1, { label: 'x.zip' }));
    expect(e.reason).toBe('short');
    expect(e.message).toContain(`has ${text.length} bytes, fewer than the ${text.length + 1} requested`);
  });

  it('stops pulling once N bytes are out and closes the source', async () => {
    const big = pseudoText(2_000_000, 3);
    const zip = makeZip([{ name: 'enwik9', data: big }]);
    const { stream, state } = chunked(zip, 16 * 1024);
    const got = await firstEntryPrefix(stream, 1000, { label: 'big.zip' });
    expect(Buffer.from(got.bytes).equals(Buffer.from(big.subarray(0, 1000)))).toBe(true);
    expect(state.pulled).toBe(16 * 1024); // one chunk of a ~300 KB+ archive
    expect(state.pulled).toBeLessThan(zip.length / 10);
    expect(state.closed).toBe(true);
  });

  it('says an entry shorter than N is short, with both sizes, before inflating', async () => {
    const zip = makeZip([{ name: 'enwik_1024', data: text.subarray(0, 1024) }]);
    const e = await dataError(firstEntryPrefix(chunked(zip, 100).stream, 2000, { label: 'p.zip' }));
    expect(e.reason).toBe('short');
    expect(e.message).toMatch(/first entry "enwik_1024" of p\.zip has 1024 bytes, fewer than the 2000 requested/);
    expect(e.message.split('\n').at(-1)).toMatch(/^hint: /);
  });

  it('calls damaged deflate data, a wrong CRC, a truncated archive, a non-zip and an empty zip corrupt', async () => {
    const good = makeZip([{ name: 'e', data: pseudoBytes(3000) }]);
    const damaged = makeZip([{ name: 'e', data: text }]);
    damaged[30 + 1] = 0xff; // first deflate block header: BTYPE 11, reserved
    const badCrc = Buffer.from(good);
    badCrc[14] ^= 1;
    const cases: [string, Uint8Array, number, RegExp][] = [
      ['damaged', damaged, 3000, /deflate data of the first entry "e" is damaged \(invalid block type\)/],
      ['bad crc', badCrc, 3000, /CRC-32/],
      ['truncated', good.subarray(0, 500), 2000, /ends in the middle of the first entry/],
      ['truncated header', good.subarray(0, 20), 10, /inside the first local file header/],
      ['not a zip', new TextEncoder().encode('<mediawiki xmlns'), 10, /starts with bytes 3c 6d 65 64/],
      ['empty zip', makeZip([]), 10, /no entries/],
    ];
    for (const [what, zip, n, msg] of cases) {
      const e = await dataError(firstEntryPrefix(chunked(zip, 256).stream, n, { label: 'bad.zip' }));
      expect(e.reason, what).toBe('corrupt');
      expect(e.message, what).toMatch(msg);
      expect(e.message, what).toContain('bad.zip');
    }
  });

  it('rejects encryption and unknown compression methods by name', async () => {
    const zip = makeZip([{ name: 'e', data: text }]);
    const enc = Buffer.from(zip);
    enc.writeUInt16LE(1, 6);
    const bz = Buffer.from(zip);
    bz.writeUInt16LE(12, 8);
    expect((await dataError(firstEntryPrefix(chunked(enc, 99).stream, 10, { label: 'z' }))).message).toMatch(/encrypted/);
    expect((await dataError(firstEntryPrefix(chunked(bz, 99).stream, 10, { label: 'z' }))).message).toMatch(/method 12/);
  });
});

describe('parseLocalHeader', () => {
  it('waits for the whole header and reads zip64 sizes from the extra field', () => {
    const name = Buffer.from('enwik9');
    const extra = Buffer.alloc(4 + 16);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(5_000_000_000n, 4); // uncompressed
    extra.writeBigUInt64LE(1_000_000_000n, 12); // compressed
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(8, 8);
    h.writeUInt32LE(0xffffffff, 18);
    h.writeUInt32LE(0xffffffff, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(extra.length, 28);
    const all = Buffer.concat([h, name, extra]);
    expect(parseLocalHeader(all.subarray(0, 3), 'z')).toBeNull();
    expect(parseLocalHeader(all.subarray(0, all.length - 1), 'z')).toBeNull();
    expect(parseLocalHeader(all, 'z')).toMatchObject({
      name: 'enwik9',
      method: 8,
      uncompressedSize: 5_000_000_000,
      compressedSize: 1_000_000_000,
      dataOffset: all.length,
    });
  });

  it('recognises the zip magic', () => {
    expect(isZipMagic(makeZip([{ name: 'a', data: text }]))).toBe(true);
    expect(isZipMagic(zlib.deflateRawSync(text))).toBe(false);
    expect(isZipMagic(new Uint8Array([0x50, 0x4b]))).toBe(false);
  });
});
