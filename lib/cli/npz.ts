// NumPy .npz: a zip archive of .npy files, one per array, named NAME.npy (what numpy.savez
// writes and numpy.load reads, giving a mapping from NAME to array). Each member is
// deflated when that makes it smaller, else stored. No ZIP64: an archive or member past
// 4 GiB is refused. Fixed timestamps (1980-01-01), so the same arrays give the same bytes.
// Zip format: PKWARE APPNOTE.TXT §4.3 (local headers, central directory, end record).

import zlib from 'node:zlib';

export interface Member {
  name: string;
  bytes: Uint8Array;
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const LIMIT = 0xffffffff;

/** CRC-32 (the zip one): node:zlib's when it has it (Node ≥ 20.15), else a table. */
export function crc32(bytes: Uint8Array): number {
  const z = zlib as unknown as { crc32?: (b: Uint8Array) => number };
  return z.crc32 ? z.crc32(bytes) >>> 0 : crc32Table(bytes);
}

let TABLE: Uint32Array | null = null;
/** The table-driven CRC-32 (polynomial 0xEDB88320), the twin of zlib.crc32. */
export function crc32Table(bytes: Uint8Array): number {
  if (!TABLE) {
    TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of the members, in order (names are ASCII; each used once). */
export function zip(members: Member[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.name)) throw new Error(`zip: member ${m.name} given twice`);
    seen.add(m.name);
    const name = Buffer.from(m.name, 'utf8');
    const crc = crc32(m.bytes);
    const deflated = zlib.deflateRawSync(m.bytes, { level: 6 });
    const method = deflated.length < m.bytes.length ? 8 : 0;
    const data = method === 8 ? new Uint8Array(deflated.buffer, deflated.byteOffset, deflated.length) : m.bytes;
    if (m.bytes.length > LIMIT || offset > LIMIT) throw new Error(`zip: ${m.name} is past 4 GiB (no ZIP64 here); export its tensors one by one as .npy`);
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // flags: names are UTF-8
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(m.bytes.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra
    name.copy(local, 30);
    const cd = Buffer.alloc(46 + name.length);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(DOS_DATE, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(m.bytes.length, 24);
    cd.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal attributes: 0
    cd.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    cd.writeUInt32LE(offset, 42);
    name.copy(cd, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  if (offset + cdSize > LIMIT || members.length > 0xffff) throw new Error('zip: the archive is past 4 GiB or 65,535 members (no ZIP64 here); export tensors one by one as .npy');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(offset + cdSize + 22);
  let o = 0;
  for (const p of all) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Read a zip written by zip() (or any stored/deflated one without ZIP64): name -> bytes, CRC-checked. */
export function unzip(bytes: Uint8Array): Map<string, Uint8Array> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let e = b.length - 22;
  while (e >= 0 && b.readUInt32LE(e) !== 0x06054b50) e--;
  if (e < 0) throw new Error('not a zip archive (no end record)');
  const count = b.readUInt16LE(e + 10);
  let p = b.readUInt32LE(e + 16);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    if (b.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = b.readUInt16LE(p + 10);
    const crc = b.readUInt32LE(p + 16);
    const csize = b.readUInt32LE(p + 20);
    const nlen = b.readUInt16LE(p + 28);
    const xlen = b.readUInt16LE(p + 30);
    const clen = b.readUInt16LE(p + 32);
    const lo = b.readUInt32LE(p + 42);
    const name = b.toString('utf8', p + 46, p + 46 + nlen);
    if (b.readUInt32LE(lo) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const start = lo + 30 + b.readUInt16LE(lo + 26) + b.readUInt16LE(lo + 28);
    const raw = b.subarray(start, start + csize);
    const data = method === 8 ? zlib.inflateRawSync(raw) : method === 0 ? raw : null;
    if (!data) throw new Error(`${name}: compression method ${method}`);
    const u = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (crc32(u) !== crc) throw new Error(`${name}: CRC mismatch`);
    out.set(name, u);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}
