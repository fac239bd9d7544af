// Test fixtures for lib/data: a minimal zip writer, pseudo-random text, and loopback HTTP
// servers (127.0.0.1 only) that serve a buffer whole, in paced halves, or cut short.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface ZipOptions {
  /** 8 deflate (default) or 0 stored. */
  method?: 0 | 8;
  /** Flag bit 3: CRC and sizes zero in the local header, given in a data descriptor after the data. */
  dataDescriptor?: boolean;
}

/** A zip archive with the given entries (local headers, data, central directory, end record). */
export function makeZip(entries: { name: string; data: Uint8Array }[], opts: ZipOptions = {}): Buffer {
  const method = opts.method ?? 8;
  const flags = opts.dataDescriptor ? 8 : 0;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = method === 8 ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = zlib.crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(opts.dataDescriptor ? 0 : crc, 14);
    local.writeUInt32LE(opts.dataDescriptor ? 0 : body.length, 18);
    local.writeUInt32LE(opts.dataDescriptor ? 0 : e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, body);
    if (opts.dataDescriptor) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(e.data.length, 12);
      parts.push(dd);
    }
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(e.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += 30 + name.length + body.length + (opts.dataDescriptor ? 16 : 0);
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

/** Wiki-ish text from a seeded LCG: words of a small vocabulary, some markup. */
export function pseudoText(size: number, seed = 1): Uint8Array {
  const words = ['the', 'of', 'and', 'in', 'to', 'a', 'was', '[[link]]', 'is', '<page>', 'for', '{{cite}}', 'on', 'as', 'with', 'by'];
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  let text = '';
  while (text.length < size) {
    const r = rnd();
    text += (r & 7) === 0 ? `${r >>> 8}\n` : `${words[(r >>> 4) & 15]} `;
  }
  return new TextEncoder().encode(text.slice(0, size));
}

/** Bytes from a seeded LCG (incompressible). */
export function pseudoBytes(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export interface TestServer {
  url: string;
  /** Body bytes the server wrote before it finished or the client went away. */
  sent: () => number;
  /** True once the client closed the connection before the whole body was written. */
  abortedEarly: () => boolean;
  close: () => Promise<void>;
}

/**
 * Serves `body` on 127.0.0.1 with a Content-Length. mode 'paced': the first `first` bytes,
 * then a pause of `pauseMs` (the client, if it stops early, aborts during it), then the rest.
 * mode 'cut': the first `first` bytes, then the socket is destroyed. mode 'status': replies
 * `status` with no body. mode 'stall': the first `first` bytes, then nothing.
 */
export async function serve(
  body: Uint8Array,
  opts: { mode: 'paced' | 'cut' | 'status' | 'stall'; first?: number; pauseMs?: number; status?: number },
): Promise<TestServer> {
  let sent = 0;
  let early = false;
  const server = http.createServer((req, res) => {
    if (opts.mode === 'status') {
      res.writeHead(opts.status ?? 404).end();
      return;
    }
    const first = Math.min(opts.first ?? 64 * 1024, body.length);
    let finished = false;
    res.on('close', () => {
      if (!finished) early = true;
    });
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': body.length });
    res.write(body.subarray(0, first), () => {
      sent += first;
      if (opts.mode === 'cut') return void setTimeout(() => req.socket.destroy(), 20);
      if (opts.mode === 'stall') return;
      setTimeout(() => {
        if (res.destroyed) return;
        res.end(body.subarray(first), () => {
          sent += body.length - first;
          finished = true;
        });
      }, opts.pauseMs ?? 2000);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/enwik9.zip`,
    sent: () => sent,
    abortedEarly: () => early,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL on which nothing listens (a port just freed). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/enwik9.zip`;
}
