// The `data` stage called directly with a fake context, as the engine calls it.
// The only server contacted listens on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import stage from '../../stages/data.ts';
import { bytesOf } from '../../lib/rnn/io.ts';
import type { ExternalFile, StageResult } from '../../lib/engine/types.ts';
import { readEmbedded, readEmbeddedRange } from '../../lib/data/embedded.ts';
import { EMBEDDED_HELDOUT_PATH, EMBEDDED_PATH } from '../../lib/data/inputs.ts';
import { ENWIK9_PREFIX_SHA256 } from '../../lib/data/known.ts';
import { makeZip, pseudoText, serve } from '../data/fixtures.ts';
import { enwik1MiB } from '../helpers/reference.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'data-stage-'));
// The paper's data under the name a user might have it by.
const REF = path.join(tmp(), 'enwik_1024.txt');
copyFileSync(EMBEDDED_PATH, REF);
const ref = new Uint8Array(readFileSync(REF));
// enwik9's first 2048 bytes: the training KiB and the held-out KiB after it.
const REF2 = path.join(tmp(), 'enwik_2048.txt');
copyFileSync(EMBEDDED_HELDOUT_PATH, REF2);
const ref2 = new Uint8Array(readFileSync(REF2));
const paramsSchema = JSON.parse(readFileSync('schemas/data.params.json', 'utf8'));
const outputSchema = JSON.parse(readFileSync('schemas/data.output.json', 'utf8'));
const ajv = new Ajv.default({ useDefaults: true, strict: true });
const validateOutput = ajv.compile(outputSchema);

/** Params as the engine fills them: the schema's defaults, then the overrides. */
function paramsWith(over: Record<string, unknown>) {
  const p: any = { ...over };
  expect(ajv.validate(paramsSchema, p), JSON.stringify(ajv.errors)).toBe(true);
  return p as { bytes: number; path: string | null; url: string; heldoutOffset: number | null; heldoutBytes: number | null };
}

function ctx(over: Record<string, unknown>, opts: { env?: Record<string, string>; externals?: Record<string, ExternalFile> } = {}) {
  const calls: [number, number, string?][] = [];
  return {
    calls,
    ctx: {
      params: paramsWith(over),
      inputs: {},
      externals: opts.externals ?? {},
      progress: (done: number, total: number, msg?: string) => void calls.push([done, total, msg]),
      warn: () => {},
      env: opts.env ?? {},
    },
  };
}

function checkOutput(out: StageResult, expected: Uint8Array) {
  expect(validateOutput(out.json), JSON.stringify(validateOutput.errors)).toBe(true);
  const t = out.tensors!.bytes;
  expect(t.dtype).toBe('uint8');
  expect(t.shape).toEqual([expected.length]);
  const xs = bytesOf({ json: out.json, tensors: out.tensors!, key: 'k', outputHash: 'h' });
  expect(Buffer.from(xs).equals(Buffer.from(expected))).toBe(true);
  expect(out.json.bytes).toBe(expected.length);
  expect(out.json.sha256).toBe(createHash('sha256').update(expected).digest('hex'));
}

describe('data stage', () => {
  it('has defaults N = 1024, no path, and the Hutter Prize enwik9 zip', () => {
    expect(paramsWith({})).toEqual({ bytes: 1024, path: null, url: 'http://mattmahoney.net/dc/enwik9.zip', heldoutOffset: null, heldoutBytes: null });
    expect(ajv.validate(paramsSchema, { bytes: 1 })).toBe(false);
    expect(ajv.validate(paramsSchema, { bites: 1 })).toBe(false);
  });

  it('reads the first 1024 bytes of enwik9 shipped with the project when neither data.path nor ENWIK9 is set', async () => {
    expect(stage.externals!(paramsWith({}), {})).toEqual([
      { name: 'source', path: EMBEDDED_PATH, maxBytes: 1024, display: 'embedded:enwik9-head-1024.txt' },
      { name: 'heldout', path: EMBEDDED_HELDOUT_PATH, maxBytes: 2048, display: 'embedded:enwik9-head-2048.txt' },
    ]);
    const { ctx: c, calls } = ctx({});
    const out = await stage.run(c);
    checkOutput(out, ref);
    expect(out.json).toEqual({ bytes: 1024, sha256: ENWIK9_PREFIX_SHA256[1024], preview: expect.any(String), heldout: { offset: 1024, bytes: 1024, sha256: expect.any(String) } });
    expect(out.provenance).toEqual({ source: 'embedded', name: 'enwik9-head-1024.txt', entry: null, heldout: { source: 'embedded', name: 'enwik9-head-2048.txt' } });
    expect(out.json.preview).toMatch(/^<mediawiki xmlns=/);
    expect(calls.at(-1)?.slice(0, 2)).toEqual([1024, 1024]);
    const short = await stage.run(ctx({ bytes: 100 }).ctx);
    checkOutput(short, ref.subarray(0, 100));
    expect(short.provenance?.source).toBe('embedded');
  });

  it('checks the shipped bytes against their sha256: a damaged copy is an error with a hint', () => {
    const bad = path.join(tmp(), 'enwik9-head-1024.txt');
    const bytes = new Uint8Array(ref);
    bytes[500] ^= 1;
    writeFileSync(bad, bytes);
    expect(() => readEmbedded(1024, bad)).toThrow(/data\/enwik9-head-1024\.txt has sha256 [0-9a-f]{64}, not that of enwik9's first 1024 bytes[^]*\nhint: restore it/);
    expect(() => readEmbedded(10, path.join(tmp(), 'gone.txt'))).toThrow(/is missing\nhint: /);
    expect(Buffer.from(readEmbedded(1024)).equals(Buffer.from(ref))).toBe(true);
  });

  it('reads the reference prefix named by data.path', async () => {
    const { ctx: c, calls } = ctx({ path: REF2 });
    const out = await stage.run(c);
    checkOutput(out, ref);
    expect(out.provenance).toEqual({ source: 'file', name: 'enwik_2048.txt', entry: null, heldout: { source: 'file', name: 'enwik_2048.txt' } });
    expect(out.json.heldout).toMatchObject({ offset: 1024, bytes: 1024 });
    expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(ref2.subarray(1024)))).toBe(true);
    // the same bytes as the shipped copy: the same output, only the provenance differs
    expect(out.json).toEqual((await stage.run(ctx({}).ctx)).json);
    expect(out.json.preview).toBe(new TextDecoder().decode(ref.subarray(0, 60)));
    expect(out.json.preview).toMatch(/^<mediawiki xmlns=/);
    expect(calls.at(-1)?.slice(0, 2)).toEqual([2048, 2048]);
  });

  it('reads the file the engine resolved, or else ENWIK9, with N = 100', async () => {
    const ext = stage.externals!(paramsWith({ bytes: 100 }), { ENWIK9: REF });
    const viaEngine = await stage.run(ctx({ bytes: 100 }, { externals: { source: ext[0] } }).ctx);
    const viaEnv = await stage.run(ctx({ bytes: 100 }, { env: { ENWIK9: REF } }).ctx);
    checkOutput(viaEngine, ref.subarray(0, 100));
    expect(viaEnv.json).toEqual(viaEngine.json);
  });

  it('declares the local source with a prefix-only fingerprint for a plain file, a whole one for a zip', () => {
    const plain = stage.externals!(paramsWith({ path: 'x/enwik8' }), { ENWIK9: 'ignored' });
    expect(plain).toEqual([
      { name: 'source', path: path.resolve('x/enwik8'), maxBytes: 2048, hint: expect.stringMatching(/data\.path=FILE or ENWIK9=FILE/) },
    ]);
    expect(stage.externals!(paramsWith({ path: 'x/enwik8', heldoutBytes: 0 }), {})[0].maxBytes).toBe(1024);
    expect(stage.externals!(paramsWith({ path: 'x/enwik8', heldoutOffset: 5000, heldoutBytes: 100 }), {})[0].maxBytes).toBe(5100);
    expect(stage.externals!(paramsWith({ bytes: 50 }), { ENWIK9: 'enwik9.zip' })[0]).toMatchObject({ maxBytes: undefined });
    // beyond the shipped 1024 bytes with no local file: a download, no external
    expect(stage.externals!(paramsWith({ bytes: 1025 }), {})).toEqual([]);
    // the shipped 1024 for training, the held-out text beyond the shipped 2048: a download, no held-out external
    expect(stage.externals!(paramsWith({ heldoutOffset: 4096 }), {}).map((e) => e.name)).toEqual(['source']);
  });

  it('refuses a 1024-byte prefix that claims to be enwik9 (ENWIK9) and is not (its sha256 is known), with a hint; other lengths are not checked', async () => {
    const file = path.join(tmp(), 'other.txt');
    writeFileSync(file, pseudoText(2000, 5));
    await expect(stage.run(ctx({}, { env: { ENWIK9: file } }).ctx)).rejects.toThrow(/the first 1024 bytes of other\.txt have sha256 [0-9a-f]{64}, not those of enwik9[^]*\nhint: .*data\.path=FILE/);
    const out = await stage.run(ctx({ bytes: 1000 }, { env: { ENWIK9: file } }).ctx);
    checkOutput(out, pseudoText(2000, 5).subarray(0, 1000));
  });

  it('refuses a 1 MiB prefix from ENWIK9 that is not enwik9\'s', async () => {
    const file = path.join(tmp(), 'fake-1MiB.txt');
    writeFileSync(file, pseudoText(1 << 20, 6));
    await expect(stage.run(ctx({ bytes: 1 << 20 }, { env: { ENWIK9: file } }).ctx)).rejects.toThrow(/the first 1048576 bytes of fake-1MiB\.txt have sha256/);
  });

  it("reads a user's own data.path as it is, at any length, and names it", async () => {
    const file = path.join(tmp(), 'mine.txt');
    writeFileSync(file, pseudoText(2000, 5));
    const out = await stage.run(ctx({ path: file, bytes: 1024 }).ctx);
    checkOutput(out, pseudoText(2000, 5).subarray(0, 1024));
    expect(out.provenance).toMatchObject({ source: 'file', name: 'mine.txt' });
  });

  it.skipIf(!enwik1MiB())('reads enwik9\'s first MiB and finds its known sha256 (TOTAL_INTERP_ENWIK9_1MIB)', async () => {
    const out = await stage.run(ctx({ path: enwik1MiB(), bytes: 1 << 20, heldoutBytes: 0 }).ctx);
    expect(out.json.sha256).toBe(ENWIK9_PREFIX_SHA256[1 << 20]);
    expect(Buffer.from(out.tensors!.bytes.data.subarray(0, 1024)).equals(Buffer.from(ref))).toBe(true);
  });

  it('fails with both sizes when the source is shorter than N', async () => {
    await expect(stage.run(ctx({ bytes: 2000, path: REF }).ctx)).rejects.toThrow(/has 1024 bytes, fewer than the 2000 requested[^]*\nhint: /);
  });

  it('fails naming the file when it has vanished since the engine checked it', async () => {
    const gone = path.resolve('test/stages/no-such-enwik9');
    await expect(stage.run(ctx({}, { externals: { source: { name: 'source', path: gone } } }).ctx)).rejects.toThrow(
      /no-such-enwik9 does not exist\nhint: .*data\.path/,
    );
  });

  it('downloads from data.url when N > 1024 and no local source is set, stopping after N bytes', async () => {
    const text = pseudoText(1_000_000, 4);
    const server = await serve(makeZip([{ name: 'enwik9', data: text }]), { mode: 'paced', first: 8192, pauseMs: 2000 });
    try {
      const { ctx: c, calls } = ctx({ bytes: 2000, url: server.url });
      const out = await stage.run(c);
      checkOutput(out, text.subarray(0, 2000));
      expect(out.provenance).toEqual({ source: 'download', name: server.url, entry: 'enwik9', heldout: { source: 'download', name: server.url } });
      // the held-out text [N, 2N) comes from the same download
      expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(text.subarray(2000, 4000)))).toBe(true);
      expect(out.json.heldout).toMatchObject({ offset: 2000, bytes: 2000 });
      expect(calls.at(-1)?.[2]).toMatch(/downloaded \d+\.\d KB/);
      await expect.poll(server.abortedEarly, { timeout: 1000 }).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('ships enwik9\'s first 2048 bytes (sha256 checked) and, offline, gives bytes [N, 2N) as the held-out text for N <= 1024', async () => {
    expect(createHash('sha256').update(ref2).digest('hex')).toBe(ENWIK9_PREFIX_SHA256[2048]);
    expect(Buffer.from(ref2.subarray(0, 1024)).equals(Buffer.from(ref))).toBe(true);
    for (const n of [1024, 100]) {
      const out = await stage.run(ctx({ bytes: n }, { externals: Object.fromEntries(stage.externals!(paramsWith({ bytes: n }), {}).map((e) => [e.name, e])) }).ctx);
      checkOutput(out, ref.subarray(0, n));
      const h = out.tensors!.heldout;
      expect([h.dtype, h.shape]).toEqual(['uint8', [n]]);
      expect(Buffer.from(h.data as Uint8Array).equals(Buffer.from(ref2.subarray(n, 2 * n)))).toBe(true);
      expect(out.json.heldout).toEqual({
        offset: n,
        bytes: n,
        sha256: createHash('sha256').update(ref2.subarray(n, 2 * n)).digest('hex'),
      });
      expect(out.provenance?.heldout).toEqual({ source: 'embedded', name: 'enwik9-head-2048.txt' });
    }
    // a pinned block inside the shipped bytes, and none at all
    const pinned = await stage.run(ctx({ bytes: 512, heldoutOffset: 1536, heldoutBytes: 512 }).ctx);
    expect(Buffer.from(pinned.tensors!.heldout.data as Uint8Array).equals(Buffer.from(ref2.subarray(1536)))).toBe(true);
    const none = await stage.run(ctx({ heldoutBytes: 0 }).ctx);
    expect(none.tensors!.heldout.shape).toEqual([0]);
    expect(none.json.heldout).toMatchObject({ offset: 1024, bytes: 0 });
    expect(none.provenance?.heldout).toEqual({ source: 'none', name: '' });
    expect(stage.externals!(paramsWith({ heldoutBytes: 0 }), {}).map((e) => e.name)).toEqual(['source']);
  });

  it('checks the shipped 2048 bytes against their sha256', () => {
    const bad = path.join(tmp(), 'enwik9-head-2048.txt');
    const bytes = new Uint8Array(ref2);
    bytes[1500] ^= 1;
    writeFileSync(bad, bytes);
    expect(() => readEmbeddedRange(1024, 1024, bad)).toThrow(/data\/enwik9-head-2048\.txt has sha256 [0-9a-f]{64}, not that of enwik9's first 2048 bytes[^]*\nhint: restore it/);
    expect(() => readEmbeddedRange(1024, 1025)).toThrow(RangeError);
  });

  it('refuses a held-out block that overlaps the training prefix, or of 1 byte, as a usage error before reading anything', async () => {
    for (const [over, what] of [
      [{ heldoutOffset: 1000 }, /held-out block \[1000, 2024\) overlaps the training prefix \[0, 1024\)/],
      [{ bytes: 2048, heldoutOffset: 0, heldoutBytes: 10 }, /held-out block \[0, 10\) overlaps the training prefix \[0, 2048\)/],
      [{ heldoutBytes: 1 }, /data\.heldoutBytes = 1: a held-out text needs at least 2 bytes/],
    ] as const) {
      let err: any;
      try {
        stage.externals!(paramsWith(over), {});
      } catch (e) {
        err = e;
      }
      expect(err?.reason).toBe('usage');
      expect(err.message).toMatch(what);
      expect(err.message).toMatch(/\nhint: leave data\.heldoutOffset and data\.heldoutBytes null/);
      await expect(stage.run(ctx(over).ctx)).rejects.toThrow(what);
    }
  });

  it('refuses a plain file that holds the training prefix but not a pinned held-out block, before reading it', async () => {
    let err: any;
    try {
      stage.externals!(paramsWith({ heldoutBytes: 1024 }), { ENWIK9: REF });
    } catch (e) {
      err = e;
    }
    expect(err?.reason).toBe('usage');
    expect(err.message).toMatch(/^source enwik_1024\.txt has 1024 bytes: the training prefix \[0, 1024\) but not all of the held-out block \[1024, 2048\)\nhint: .*data\.heldoutBytes=0/);
    await expect(stage.run(ctx({ path: REF, heldoutOffset: 1024 }).ctx)).rejects.toThrow(/but not all of the held-out block/);
    // the same file with no held-out text is fine
    checkOutput(await stage.run(ctx({ path: REF, heldoutBytes: 0 }).ctx), ref);
  });

  it('a 1 KiB copy of enwik9, named by ENWIK9 or data.path, takes its held-out text from the shipped bytes: the same output as the shipped copy', async () => {
    const byPath = stage.externals!(paramsWith({ path: REF }), {});
    expect(byPath.map((e) => e.name)).toEqual(['source', 'heldout']);
    expect(((await stage.run(ctx({ path: REF }, { externals: Object.fromEntries(byPath.map((e) => [e.name, e])) }).ctx)).json.heldout as { bytes: number }).bytes).toBe(1024);
    const env = { ENWIK9: REF };
    const ext = stage.externals!(paramsWith({}), env);
    expect(ext.map((e) => e.name)).toEqual(['source', 'heldout']);
    const out = await stage.run(ctx({}, { env, externals: Object.fromEntries(ext.map((e) => [e.name, e])) }).ctx);
    const shipped = await stage.run(ctx({}, { externals: Object.fromEntries(stage.externals!(paramsWith({}), {}).map((e) => [e.name, e])) }).ctx);
    expect(out.json).toEqual(shipped.json);
    expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(shipped.tensors!.heldout.data as Uint8Array))).toBe(true);
    expect(out.provenance).toEqual({ source: 'file', name: 'enwik_1024.txt', entry: null, heldout: { source: 'embedded', name: 'enwik9-head-2048.txt' } });
    // a file whose first KiB is not enwik9's gets no borrowed held-out text
    const other = path.join(tmp(), 'other-1024.txt');
    writeFileSync(other, pseudoText(1024, 9));
    const e2 = stage.externals!(paramsWith({ heldoutBytes: null }), { ENWIK9: other });
    await expect(stage.run(ctx({}, { env: { ENWIK9: other }, externals: Object.fromEntries(e2.map((e) => [e.name, e])) }).ctx)).rejects.toThrow(/not those of enwik9/);
  });

  it('the default held-out block shrinks to what a source has after the prefix: a text of exactly N bytes has none', async () => {
    const file = path.join(tmp(), 'mine-1024.txt');
    writeFileSync(file, pseudoText(1024, 4));
    // the shipped bytes are declared (the file might be enwik9's first KiB), but this text is not: none borrowed
    const ext = stage.externals!(paramsWith({ path: file }), {});
    expect(ext.map((e) => e.name)).toEqual(['source', 'heldout']);
    const exact = await stage.run(ctx({ path: file }, { externals: Object.fromEntries(ext.map((e) => [e.name, e])) }).ctx);
    checkOutput(exact, pseudoText(1024, 4));
    expect(exact.json.heldout).toMatchObject({ offset: 1024, bytes: 0 });
    expect(exact.tensors!.heldout.shape).toEqual([0]);
    const mine = path.join(tmp(), 'mine.txt');
    const text = pseudoText(1100, 3);
    writeFileSync(mine, text);
    const out = await stage.run(ctx({ path: mine, bytes: 1000 }).ctx);
    expect(out.json.heldout).toMatchObject({ offset: 1000, bytes: 100 });
    expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(text.subarray(1000)))).toBe(true);
  });

  it('a zip that ends inside the held-out block says so when the block is pinned, and shrinks it when not', async () => {
    const zip = path.join(tmp(), 'short.zip');
    writeFileSync(zip, makeZip([{ name: 'enwik9', data: pseudoText(3000, 7) }]));
    await expect(stage.run(ctx({ bytes: 2000, path: zip, heldoutBytes: 2000 }).ctx)).rejects.toThrow(/short\.zip has 3000 bytes: the training prefix \[0, 2000\) but not all of the held-out block \[2000, 4000\)/);
    for (const pin of [{ heldoutBytes: 1000 }, {}]) {
      const out = await stage.run(ctx({ bytes: 2000, path: zip, ...pin }).ctx);
      expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(pseudoText(3000, 7).subarray(2000)))).toBe(true);
      expect(out.provenance?.heldout).toEqual({ source: 'zip', name: 'short.zip' });
    }
  });

  it.skipIf(!enwik1MiB())('the held-out text of a 64 KiB prefix is bytes [64 KiB, 128 KiB) of enwik9, and a fixed block [960 KiB, 1 MiB) can be pinned', async () => {
    const head = new Uint8Array(readFileSync(enwik1MiB()!));
    const n = 65536;
    const out = await stage.run(ctx({ path: enwik1MiB(), bytes: n }).ctx);
    expect(Buffer.from(out.tensors!.heldout.data as Uint8Array).equals(Buffer.from(head.subarray(n, 2 * n)))).toBe(true);
    const q3 = await stage.run(ctx({ path: enwik1MiB(), bytes: n, heldoutOffset: 983040, heldoutBytes: 65536 }).ctx);
    expect(Buffer.from(q3.tensors!.heldout.data as Uint8Array).equals(Buffer.from(head.subarray(983040)))).toBe(true);
    expect(q3.json.heldout).toMatchObject({ offset: 983040, bytes: 65536 });
  });
});
