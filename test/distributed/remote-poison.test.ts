// A poisoned remote cache (lib/engine/keep/remote.ts) against a fault-injecting HTTP server on
// loopback (test/helpers/fault-server.ts), with the toy pipeline: forged entries re-sealed
// with a valid checksum (escaping artifact names, other outputs under the same key, refs
// that are not hex, missing fields, a wrong tensor shape), entries without a valid HMAC tag,
// a body larger than declared, a reset connection and a stalled one. Each is one warning and
// a local build with the right result; nothing is written outside the cache and reports/.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RemoteCache, TooLargeError } from '../../lib/engine/keep/remote.ts';
import { canonicalJson, sha256 } from '../../lib/engine/keep/hash.ts';
import { encodeTensor } from '../../lib/engine/keep/tensor.ts';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.ts';
import { loadToy, makeToy, statuses } from '../engine/toy.ts';
import { filesUnder } from '../helpers/servers.ts';

/** An entry's JSON with its checksum made valid again (what anyone who can write the remote can do). */
function reseal(e: any): Buffer {
  const { check: _c, tag: _t, ...body } = e;
  return Buffer.from(JSON.stringify({ ...body, check: sha256(canonicalJson(body)) }));
}

describe('a poisoned remote cache', { timeout: 60_000 }, () => {
  let srv: FaultServer;
  const tmp: string[] = [];
  const fresh = () => {
    const d = makeToy();
    tmp.push(d);
    return d;
  };
  let n = 0;
  /** A prefix on the server holding a's, b's and c's entries, pushed by an honest machine. */
  async function seeded(opts: { key?: string } = {}) {
    const prefix = `/p${++n}`;
    const a = await loadToy(fresh());
    await a.layer({ remote: new RemoteCache(srv.url + prefix, { key: opts.key ?? '', warn: () => {} }) });
    const built = await a.build(['c']);
    const ac = (s: string) => `${prefix}/ac/${built.entries[s].key}`;
    const entry = (s: string) => JSON.parse(srv.files.get(ac(s))!.toString());
    return { prefix, built, ac, entry };
  }
  /** Another machine (empty cache) building c from the remote; its warnings and what it wrote. */
  async function victim(prefix: string, opts: { key?: string } = {}) {
    const dir = fresh();
    const before = new Set(filesUnder(dir));
    const p = await loadToy(dir);
    const warnings: string[] = [];
    const remote = new RemoteCache(srv.url + prefix, { key: opts.key ?? '', warn: (m) => warnings.push(m), timeoutMs: 2000 });
    await p.layer({ remote: remote });
    const r = await p.build(['c']);
    const out = (await p.output(r.entries.c)).json;
    const outside = filesUnder(dir).filter((f) => !before.has(f) && !/^(cache|reports)\//.test(f));
    return { r, out, warnings, remote, outside, dir, p };
  }

  beforeAll(async () => {
    srv = await startFaultServer({ hugeBytes: 256 << 20, dripMs: 400 });
  });
  afterEach(() => {
    srv.fault = () => null;
  });
  afterAll(async () => {
    await srv?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
  });

  it('an honest remote serves everything (the baseline the rest depart from)', async () => {
    const { prefix } = await seeded();
    const v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    expect(v.out).toEqual({ out: 7 });
    expect(v.warnings).toEqual([]);
  });

  it('an artifact name that escapes reports/<label>/ is refused: nothing is written outside', async () => {
    const { prefix, ac, entry } = await seeded();
    const c = entry('c');
    const ref = c.outputs.artifacts['toy/out.txt'];
    for (const evil of ['../pwned.txt', '/tmp/pwned.txt', 'toy/../../pwned.txt', 'toy/sub/dir/x.txt', 'toy\\..\\x']) {
      srv.files.set(ac('c'), reseal({ ...c, outputs: { ...c.outputs, artifacts: { [evil]: ref } } }));
      const v = await victim(prefix);
      expect(statuses(v.r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'ran' });
      expect(v.warnings.length).toBe(1);
      expect(v.warnings[0]).toMatch(/stage c .*has artifact .*not <label>\/<file>.*ignored, building it/);
      expect(v.outside).toEqual([]);
      expect(fs.existsSync(path.join(v.dir, 'reports', 'toy', 'out.txt'))).toBe(true);
    }
  });

  it('other outputs re-sealed under the same key are refused: outputHash is recomputed from the objects', async () => {
    const { prefix, ac, entry } = await seeded();
    const b = entry('b');
    const forged = Buffer.from(JSON.stringify({ sum: 999 }));
    srv.files.set(`${prefix}/cas/${sha256(forged)}`, forged);
    srv.files.set(ac('b'), reseal({ ...b, outputs: { ...b.outputs, json: { hash: sha256(forged), bytes: forged.length } } }));
    const v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'cached', b: 'ran', c: 'cached' });
    expect(v.out).toEqual({ out: 7 });
    expect(v.warnings.join('\n')).toMatch(/stage b .*outputHash that is not its outputs'/);
  });

  it('malformed entries (a ref that is not hex, no tensors, null artifacts, the wrong types) are one warning each and built locally', async () => {
    const { prefix, ac, entry } = await seeded();
    const a = entry('a');
    const cases: [string, any][] = [
      ['ref not hex', { ...a, outputs: { ...a.outputs, json: { hash: '../../../../../etc/passwd', bytes: 10 } } }],
      ['tensor ref not hex', { ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, hash: '/etc/passwd' } } } }],
      ['no tensors', { ...a, outputs: { json: a.outputs.json, artifacts: {} } }],
      ['null artifacts', { ...a, outputs: { ...a.outputs, artifacts: null } }],
      ['outputs a string', { ...a, outputs: 'x' }],
      ['unknown dtype', { ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, dtype: 'constructor' } } } }],
      ['undeclared tensor', { ...a, outputs: { ...a.outputs, tensors: { w: a.outputs.tensors.v } } }],
      ['array', [a]],
    ];
    for (const [what, forged] of cases) {
      srv.files.set(ac('a'), reseal(forged));
      const v = await victim(prefix);
      expect(statuses(v.r.runs), what).toEqual({ a: 'ran', b: 'cached', c: 'cached' });
      expect(v.warnings.length, what).toBe(1);
      expect(v.warnings[0], what).toMatch(/remote cache: entry for stage a .*ignored, building it/);
      expect(v.out).toEqual({ out: 7 });
    }
    // not JSON at all
    srv.files.set(ac('a'), Buffer.from('{"key": '));
    expect((await victim(prefix)).warnings[0]).toMatch(/is not valid JSON/);
  });

  it('a tensor ref whose shape differs from its file is refused', async () => {
    const { prefix, ac, entry } = await seeded();
    const a = entry('a');
    // Same element count, so its size is consistent: only the file's header tells.
    srv.files.set(ac('a'), reseal({ ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, shape: [2, 2] } } } }));
    let v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'ran', b: 'cached', c: 'cached' });
    expect(v.warnings.join('\n')).toMatch(/says stage a: tensor v is float64 \[2,2\], its file holds float64 \[4\]/);
    // A shape its file cannot hold is refused before anything is downloaded.
    srv.files.set(ac('a'), reseal({ ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, shape: [4000] } } } }));
    v = await victim(prefix);
    expect(v.warnings.join('\n')).toMatch(/has tensor "v" that has shape \[4000\] of float64/);
    // A re-encoded tensor of another shape, with a consistent ref: its outputHash gives it away.
    const t = Buffer.from(encodeTensor({ dtype: 'float64', shape: [2], data: new Float64Array([0, 1]) }));
    srv.files.set(`${prefix}/cas/${sha256(t)}`, t);
    srv.files.set(ac('a'), reseal({ ...a, outputs: { ...a.outputs, tensors: { v: { hash: sha256(t), bytes: t.length, dtype: 'float64', shape: [2] } } } }));
    v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'ran', b: 'cached', c: 'cached' });
    expect(v.warnings.join('\n')).toMatch(/outputHash that is not its outputs'/);
  });

  it('with TOTAL_INTERP_REMOTE_KEY: tagged entries are served, a missing or wrong tag is absent', async () => {
    const { prefix, ac, entry } = await seeded({ key: 'k1-secret' });
    expect(typeof entry('a').tag).toBe('string');
    let v = await victim(prefix, { key: 'k1-secret' });
    expect(statuses(v.r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    v = await victim(prefix, { key: 'another-key' });
    expect(statuses(v.r.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran' });
    expect(v.warnings.join('\n')).toMatch(/HMAC tag that is not valid under the entry key/);
    expect(v.warnings.join('\n')).not.toMatch(/another-key/);
    // The tag dropped (the entry otherwise intact and re-sealed): absent.
    const { prefix: p2, ac: ac2, entry: e2 } = await seeded({ key: 'k1-secret' });
    srv.files.set(ac2('a'), reseal(e2('a')));
    v = await victim(p2, { key: 'k1-secret' });
    expect(statuses(v.r.runs).a).toBe('ran');
    expect(v.warnings.join('\n')).toMatch(/has no HMAC tag/);
    // A forged entry with the old tag copied over: the tag no longer matches.
    const b = entry('b');
    const forged = Buffer.from(JSON.stringify({ sum: 999 }));
    srv.files.set(`${prefix}/cas/${sha256(forged)}`, forged);
    srv.files.set(ac('b'), Buffer.from(JSON.stringify({ ...JSON.parse(reseal({ ...b, outputs: { ...b.outputs, json: { hash: sha256(forged), bytes: forged.length } } }).toString()), tag: b.tag })));
    v = await victim(prefix, { key: 'k1-secret' });
    expect(statuses(v.r.runs).b).toBe('ran');
    expect(v.out).toEqual({ out: 7 });
  });

  it('a body larger than declared is refused without reading it all', async () => {
    const { prefix, built } = await seeded();
    const jsonHash = built.entries.b.outputs.json.hash;
    for (const kind of ['huge', 'huge-chunked'] as const) {
      srv.sentBytes = 0;
      srv.fault = (m, p) => (m === 'GET' && p.endsWith(jsonHash) ? kind : null);
      const v = await victim(prefix);
      expect(statuses(v.r.runs), kind).toEqual({ a: 'cached', b: 'ran', c: 'cached' });
      expect(v.warnings.join('\n'), kind).toMatch(/larger than its declared \d+ bytes \(refused unread\)/);
      expect(srv.sentBytes, kind).toBeLessThan(32 << 20); // of 256 MiB offered
    }
    // The hard cap, on a plain get.
    srv.sentBytes = 0;
    srv.fault = () => 'huge-chunked';
    const r = new RemoteCache(srv.url + prefix, { maxBytes: 1 << 20 });
    await expect(r.get('cas', jsonHash)).rejects.toThrow(TooLargeError);
    expect(srv.sentBytes).toBeLessThan(32 << 20);
  });

  it('a reset connection is retried once; a second reset switches the remote off, and the build goes on', async () => {
    const { prefix, built } = await seeded();
    let resets = 0;
    srv.fault = (m, p) => (m === 'GET' && p.endsWith(built.entries.a.key) && resets++ === 0 ? 'reset' : null);
    let v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'cached', b: 'cached', c: 'cached' });
    expect(v.remote.stats.retried).toBe(1);
    expect(v.remote.down).toBe(false);
    expect(v.warnings).toEqual([]);
    srv.fault = () => 'reset';
    v = await victim(prefix);
    expect(statuses(v.r.runs)).toEqual({ a: 'ran', b: 'ran', c: 'ran' });
    expect(v.warnings.length).toBe(1);
    expect(v.warnings[0]).toMatch(/unreachable \(GET ac: (UND_ERR_SOCKET|ECONNRESET)/);
  });

  it('a remote that stalls mid-answer is given up after the idle timeout', async () => {
    const { prefix, built } = await seeded();
    srv.fault = (m, p) => (m === 'GET' && p.endsWith(built.entries.a.key) ? 'slow' : null);
    const r = new RemoteCache(srv.url + prefix, { timeoutMs: 300, warn: () => {} });
    const t0 = performance.now();
    expect(await r.get('ac', built.entries.a.key)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.down).toBe(true);
  });
});
