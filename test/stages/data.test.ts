// The `data` stage called directly with a fake context, as the engine calls it.
// The only server contacted listens on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import stage from '../../stages/data.ts';
import { bytesOf } from '../../lib/rnn/io.ts';
import type { ExternalFile, StageResult } from '../../lib/engine/types.ts';
import { makeZip, pseudoText, serve } from '../data/fixtures.ts';

const REF = path.resolve('../shared/reference/enwik_1024.txt');
const ref = new Uint8Array(readFileSync(REF));
const paramsSchema = JSON.parse(readFileSync('schemas/data.params.json', 'utf8'));
const outputSchema = JSON.parse(readFileSync('schemas/data.output.json', 'utf8'));
const ajv = new Ajv.default({ useDefaults: true, strict: true });
const validateOutput = ajv.compile(outputSchema);

/** Params as the engine fills them: the schema's defaults, then the overrides. */
function paramsWith(over: Record<string, unknown>) {
  const p: any = { ...over };
  expect(ajv.validate(paramsSchema, p), JSON.stringify(ajv.errors)).toBe(true);
  return p as { bytes: number; path: string | null; url: string };
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
    expect(paramsWith({})).toEqual({ bytes: 1024, path: null, url: 'http://mattmahoney.net/dc/enwik9.zip' });
    expect(ajv.validate(paramsSchema, { bytes: 1 })).toBe(false);
    expect(ajv.validate(paramsSchema, { bites: 1 })).toBe(false);
  });

  it('reads the reference prefix named by data.path', async () => {
    const { ctx: c, calls } = ctx({ path: '../shared/reference/enwik_1024.txt' });
    const out = await stage.run(c);
    checkOutput(out, ref);
    expect(out.json).toMatchObject({ source: 'file', name: 'enwik_1024.txt', entry: null });
    expect(out.json.preview).toBe(new TextDecoder().decode(ref.subarray(0, 60)));
    expect(out.json.preview).toMatch(/^<mediawiki xmlns=/);
    expect(calls.at(-1)?.slice(0, 2)).toEqual([1024, 1024]);
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
      { name: 'source', path: path.resolve('x/enwik8'), maxBytes: 1024, hint: expect.stringMatching(/data\.path=FILE or ENWIK9=FILE/) },
    ]);
    expect(stage.externals!(paramsWith({ bytes: 50 }), { ENWIK9: 'enwik9.zip' })[0]).toMatchObject({ maxBytes: undefined });
    expect(stage.externals!(paramsWith({}), {})).toEqual([]);
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

  it('downloads from data.url when no local source is set, stopping after N bytes', async () => {
    const text = pseudoText(1_000_000, 4);
    const server = await serve(makeZip([{ name: 'enwik9', data: text }]), { mode: 'paced', first: 8192, pauseMs: 2000 });
    try {
      const { ctx: c, calls } = ctx({ bytes: 1000, url: server.url });
      const out = await stage.run(c);
      checkOutput(out, text.subarray(0, 1000));
      expect(out.json).toMatchObject({ source: 'download', name: server.url, entry: 'enwik9' });
      expect(calls.at(-1)?.[2]).toMatch(/downloaded \d+\.\d KB/);
      await expect.poll(server.abortedEarly, { timeout: 1000 }).toBe(true);
    } finally {
      await server.close();
    }
  });
});
