// Every server here listens on 127.0.0.1; no other host is contacted.
import { describe, expect, it } from 'vitest';
import { DataError } from '../../lib/data/errors.ts';
import { downloadPrefix } from '../../lib/data/download.ts';
import { deadUrl, makeZip, pseudoBytes, pseudoText, serve } from './fixtures.ts';

async function networkError(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => null, (err) => err);
  expect(e).toBeInstanceOf(DataError);
  expect((e as DataError).reason).toBe('network');
  // Says how to use a local copy instead.
  expect((e as Error).message.split('\n').at(-1)).toMatch(/^hint: .*ENWIK9=FILE.*data\.path=FILE/);
  return e as DataError;
}

describe('downloadPrefix', () => {
  it('downloads the first N bytes and aborts the request long before the whole zip is sent', async () => {
    const text = pseudoText(2_000_000, 11);
    const zip = makeZip([{ name: 'enwik9', data: text }]);
    // The server sends 16 KB, then waits 2 s before the rest: a reader that stops early
    // has closed the connection by then, one that reads everything gets it all.
    const server = await serve(zip, { mode: 'paced', first: 16 * 1024, pauseMs: 2000 });
    try {
      const seen: number[] = [];
      const got = await downloadPrefix(server.url, 1000, { onProgress: (out) => seen.push(out) });
      expect(got).toMatchObject({ source: 'download', name: server.url, entry: 'enwik9' });
      expect(Buffer.from(got.bytes).equals(Buffer.from(text.subarray(0, 1000)))).toBe(true);
      expect(got.transferred).toBeLessThanOrEqual(16 * 1024);
      expect(seen.at(-1)).toBe(1000);
      await expect.poll(server.abortedEarly, { timeout: 1000 }).toBe(true);
      expect(server.sent()).toBe(16 * 1024);
      expect(zip.length).toBeGreaterThan(200_000);
    } finally {
      await server.close();
    }
  });

  it('reports a connection cut mid-stream as a network failure', async () => {
    const data = pseudoBytes(50_000); // incompressible: N bytes need N archive bytes
    const server = await serve(makeZip([{ name: 'enwik9', data }]), { mode: 'cut', first: 300 });
    try {
      const e = await networkError(downloadPrefix(server.url, 2000));
      expect(e.message).toMatch(/could not download http:\/\/127\.0\.0\.1:\d+\/enwik9\.zip: the connection broke after 300 bytes/);
    } finally {
      await server.close();
    }
  });

  it('reports a refused connection as a network failure', async () => {
    const url = await deadUrl();
    const e = await networkError(downloadPrefix(url, 100));
    expect(e.message).toContain(`could not download ${url}`);
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('reports an HTTP status other than 200 with the status', async () => {
    const server = await serve(new Uint8Array(0), { mode: 'status', status: 404 });
    try {
      const e = await networkError(downloadPrefix(server.url, 100));
      expect(e.message).toMatch(/HTTP 404 Not Found/);
    } finally {
      await server.close();
    }
  });

  it('gives up on a server that stops sending', async () => {
    const server = await serve(makeZip([{ name: 'enwik9', data: pseudoBytes(50_000) }]), { mode: 'stall', first: 500 });
    try {
      const e = await networkError(downloadPrefix(server.url, 2000, { idleMs: 150 }));
      expect(e.message).toMatch(/no data for 0\.15 s after 500 bytes/);
    } finally {
      await server.close();
    }
  });

  it('passes on a short first entry as such, not as a network failure', async () => {
    const server = await serve(makeZip([{ name: 'enwik_1024', data: pseudoText(1024) }]), { mode: 'paced', pauseMs: 0 });
    try {
      const e = await downloadPrefix(server.url, 2000).then(() => null, (err) => err);
      expect(e).toBeInstanceOf(DataError);
      expect(e.reason).toBe('short');
      expect(e.message).toContain('has 1024 bytes, fewer than the 2000 requested');
    } finally {
      await server.close();
    }
  });
});
