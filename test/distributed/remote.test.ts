// The HTTP remote cache (lib/engine/keep/remote.ts) against a real nginx WebDAV server on
// loopback, with the toy pipeline of test/engine/toy.ts: a build pushes entries and
// objects; a second machine (an empty local cache) is served from the remote and runs
// nothing; damaged remote entries and objects are refused and rebuilt; an unreachable
// remote is one warning and the build goes on; credentials never appear in messages.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteCache, redactText } from '../../lib/engine/keep/remote.ts';
import { sha256 } from '../../lib/engine/keep/hash.ts';
import { filesUnder, freePort, missing, startNginx, type Server } from '../helpers/servers.ts';
import { loadToy, makeToy } from '../engine/toy.ts';

const why = missing();
if (why) console.log(`skipping remote cache tests: ${why}`);

describe.skipIf(!!why)('remote HTTP cache on nginx WebDAV', () => {
  let nginx: Server & { root: string };
  const tmp: string[] = [];
  /** A new toy project with its own (empty) local cache: another machine. */
  const fresh = () => {
    const d = makeToy();
    tmp.push(d);
    return d;
  };

  beforeAll(async () => {
    nginx = await startNginx({ auth: { user: 'alice', pass: 's3cret-pw' } });
  });
  afterAll(async () => {
    await nginx?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
  });

  it('get/put/has speak /cas/<sha256> and /ac/<key>', async () => {
    const r = new RemoteCache(nginx.url);
    const bytes = Buffer.from('hello remote');
    const h = sha256(bytes);
    expect(await r.has('cas', h)).toBe(false);
    expect(await r.get('cas', h)).toBeNull();
    expect(await r.put('cas', h, bytes)).toBe(true);
    expect(await r.has('cas', h)).toBe(true);
    expect(Buffer.from((await r.get('cas', h))!).toString()).toBe('hello remote');
    expect(fs.existsSync(path.join(nginx.root, 'cas', h))).toBe(true);
    await expect(r.get('ac', '../etc/passwd')).rejects.toThrow(/bad ac name/);
  });

  it('a second machine is served from the remote: nothing runs, outputs identical', async () => {
    const prefix = `${nginx.url}/run1`;
    const a = { p: await loadToy(fresh()) };
    const ra = new RemoteCache(prefix);
    await a.p.layer({ remote: ra });
    const first = await a.p.build(['c']);
    expect(first.runs.map((r) => r.status)).toEqual(['ran', 'ran', 'ran']);
    expect(ra.stats.entriesUp).toBe(3);
    const stored = filesUnder(path.join(nginx.root, 'run1'));
    expect(stored.filter((f) => f.startsWith('ac/')).length).toBe(3);

    const b = { p: await loadToy(fresh()) };
    const rb = new RemoteCache(prefix);
    await b.p.layer({ remote: rb });
    const second = await b.p.build(['c']);
    expect(second.runs.map((r) => r.status)).toEqual(['cached', 'cached', 'cached']);
    expect(rb.stats.hits).toBe(3);
    for (const s of ['a', 'b', 'c']) expect(second.entries[s].outputHash).toBe(first.entries[s].outputHash);
    expect(b.p.json(second.entries.c)).toEqual(a.p.json(first.entries.c));
  });

  it('a damaged remote entry or object is refused and rebuilt, and the remote is repaired', async () => {
    const prefix = `${nginx.url}/run2`;
    const a = { p: await loadToy(fresh()) };
    await a.p.layer({ remote: new RemoteCache(prefix) });
    const first = await a.p.build(['c']);
    // Flip a byte in b's entry and truncate c's JSON object on the server.
    const acB = path.join(nginx.root, 'run2', 'ac', first.entries.b.key);
    const text = fs.readFileSync(acB, 'utf8');
    fs.writeFileSync(acB, text.replace('"seconds":', '"seconds": 1e3, "x":'));
    const casC = path.join(nginx.root, 'run2', 'cas', first.entries.c.outputs.json.hash);
    fs.writeFileSync(casC, fs.readFileSync(casC).subarray(0, 3));

    const b = { p: await loadToy(fresh()) };
    const warnings: string[] = [];
    const rb = new RemoteCache(prefix, { warn: (m) => warnings.push(m) });
    await b.p.layer({ remote: rb });
    const second = await b.p.build(['c']);
    expect(second.runs.map((r) => `${r.name}:${r.status}`)).toEqual(['a:cached', 'b:ran', 'c:ran']);
    expect(warnings.join('\n')).toMatch(/stage b .*fails its checksum/);
    expect(warnings.join('\n')).toMatch(/object [0-9a-f]{12} fails its hash check/);
    expect(rb.stats.rejected).toBe(2);
    for (const s of ['a', 'b', 'c']) expect(second.entries[s].outputHash).toBe(first.entries[s].outputHash);
    // The rebuild pushed good copies: a third machine is served entirely.
    const c = { p: await loadToy(fresh()) };
    await c.p.layer({ remote: new RemoteCache(prefix) });
    expect((await c.p.build(['c'])).runs.map((r) => r.status)).toEqual(['cached', 'cached', 'cached']);
  });

  it('results built before the remote was configured are shared on the next build', async () => {
    const prefix = `${nginx.url}/run3`;
    const a = { p: await loadToy(fresh()) };
    await a.p.build(['c']); // no remote yet
    const ra = new RemoteCache(prefix);
    await a.p.layer({ remote: ra });
    expect((await a.p.build(['c'])).runs.map((r) => r.status)).toEqual(['cached', 'cached', 'cached']);
    expect(ra.stats.entriesUp).toBe(3);
    await a.p.build(['c']); // known to be there now: nothing is sent again
    expect(ra.stats.entriesUp).toBe(3);
    const b = { p: await loadToy(fresh()) };
    await b.p.layer({ remote: new RemoteCache(prefix) });
    expect((await b.p.build(['c'])).runs.map((r) => r.status)).toEqual(['cached', 'cached', 'cached']);
  });

  it('an unreachable remote is one warning and the build goes on locally', async () => {
    const port = await freePort(); // nothing listens there
    const a = { p: await loadToy(fresh()) };
    const warnings: string[] = [];
    const r = new RemoteCache(`http://bob:hunter22@127.0.0.1:${port}/x`, { warn: (m) => warnings.push(m) });
    await a.p.layer({ remote: r });
    const out = await a.p.build(['c']);
    expect(out.runs.map((x) => x.status)).toEqual(['ran', 'ran', 'ran']);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/remote cache http:\/\/\*\*\*@127\.0\.0\.1:\d+\/x unreachable \(GET ac: ECONNREFUSED\); building locally/);
    expect(warnings[0]).not.toMatch(/hunter22|bob/);
    expect(r.down).toBe(true);
  });

  it('credentials: from the URL or passed in, sent as Basic auth, never shown', async () => {
    const warnings: string[] = [];
    const bad = new RemoteCache(`http://alice:wrong-pw@127.0.0.1:${nginx.port}/private`, { warn: (m) => warnings.push(m) });
    expect(await bad.put('cas', sha256(Buffer.from('x')), Buffer.from('x'))).toBe(false);
    expect(warnings.join('\n')).toMatch(/HTTP 401, check the credentials/);
    expect(warnings.join('\n')).not.toMatch(/wrong-pw|alice/);
    expect(bad.redacted).toBe(`http://***@127.0.0.1:${nginx.port}/private`);

    const viaUrl = new RemoteCache(`http://alice:s3cret-pw@127.0.0.1:${nginx.port}/private`);
    const viaOpt = new RemoteCache(`http://127.0.0.1:${nginx.port}/private`, { auth: 'alice:s3cret-pw' });
    const bytes = Buffer.from('private bytes');
    expect(await viaUrl.put('cas', sha256(bytes), bytes)).toBe(true);
    expect(Buffer.from((await viaOpt.get('cas', sha256(bytes)))!).toString()).toBe('private bytes');
    expect(viaOpt.scrub('failed: s3cret-pw at http://alice:s3cret-pw@h/')).toBe('failed: *** at http://***@h/');

    // Nothing the pipeline stores carries them.
    const a = { p: await loadToy(fresh()) };
    await a.p.layer({ remote: viaUrl });
    await a.p.build(['c']);
    for (const f of filesUnder(a.p.store.root)) expect(fs.readFileSync(path.join(a.p.store.root, f)).includes('s3cret')).toBe(false);
    for (const f of filesUnder(nginx.root)) expect(fs.readFileSync(path.join(nginx.root, f)).includes('s3cret')).toBe(false);
  });

  it('redactText hides user:pass@ in any URL', () => {
    expect(redactText('see https://u:p@host:1/a and redis://:pw@r:6379')).toBe('see https://***@host:1/a and redis://***@r:6379');
    expect(() => new RemoteCache('ftp://x')).toThrow(/only http/);
    expect(() => new RemoteCache('not a url :pw@')).toThrow(/not a URL/);
  });
});
