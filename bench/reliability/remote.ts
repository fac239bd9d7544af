// Reliability rows for a poisoned remote cache: an honest machine pushes the toy pipeline's
// results (test/engine/toy.ts) to a fault-injecting HTTP server on 127.0.0.1
// (test/helpers/fault-server.ts); the server's entries are then forged (re-sealed with other
// outputs, escaping artifact names, malformed fields, a wrong tensor shape, tags missing or
// wrong under TOTAL_INTERP_REMOTE_KEY) or its answers broken (bodies far larger than
// declared, stalled, reset), and a machine with an empty cache builds from it each time.
//
//   recovered  the build finished with the honest outputs (every stage's outputHash and c's JSON)
//   wrong      the build finished with other outputs, or a file appeared outside the
//              cache and reports/<label>/ (the last row counts those files over every run)
//
// bench/reliability.ts runs it with --remote; alone: npx tsx bench/reliability/remote.ts [--quick]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RemoteCache } from '../../lib/engine/keep/remote.ts';
import { canonicalJson, sha256 } from '../../lib/engine/keep/hash.ts';
import { encodeTensor } from '../../lib/engine/keep/tensor.ts';
import { loadToy, makeToy } from '../../test/engine/toy.ts';
import { startFaultServer, type Fault, type FaultServer } from '../../test/helpers/fault-server.ts';

export type Row = { name: string; tried: number; recovered: number; wrong: number; note?: string };

/** An entry's JSON with a valid checksum again, as anyone who can write the remote can make it. */
function reseal(e: any, keepTag = false): Buffer {
  const { check: _c, tag, ...body } = e;
  return Buffer.from(JSON.stringify({ ...body, check: sha256(canonicalJson(body)), ...(keepTag ? { tag } : {}) }));
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

export async function run(opts: { root: string; log: (s: string) => void; quick?: boolean }): Promise<Row[]> {
  // Each machine is a toy project of its own in the system's temporary folder (makeToy), removed at the end; opts.root is not written.
  const srv: FaultServer = await startFaultServer({ hugeBytes: opts.quick ? 64 << 20 : 1 << 30, dripMs: 500 });
  const rows: Row[] = [];
  let outsideFiles = 0;
  let runs = 0;
  const dirs: string[] = [];
  const fresh = () => {
    const d = makeToy();
    dirs.push(d);
    return d;
  };
  try {
    // The honest results every victim must end with.
    const honestDir = fresh();
    opts.log('remote: the honest build');
    const honest = await loadToy(honestDir);
    const ref = await honest.build(['c']);
    const refHash = Object.fromEntries(Object.entries(ref.entries).map(([s, e]) => [s, e.outputHash]));
    const refOut = JSON.stringify((await honest.output(ref.entries.c)).json);
    let n = 0;
    /** A prefix seeded by an honest push (tagged under `key` when given). */
    const seed = async (key = '') => {
      const prefix = `/p${++n}`;
      const p = await loadToy(fresh());
      await p.layer({ remote: new RemoteCache(srv.url + prefix, { key, warn: () => {} }) });
      const b = await p.build(['c']);
      const ac = (s: string) => `${prefix}/ac/${b.entries[s].key}`;
      return { prefix, ac, entry: (s: string) => JSON.parse(srv.files.get(ac(s))!.toString()), put: (k: string, v: Buffer) => srv.files.set(k, v) };
    };
    /** A machine with an empty cache builds c from the remote; was the result honest, and what leaked? */
    const victim = async (prefix: string, o: { key?: string; timeoutMs?: number; escapes?: string[] } = {}) => {
      runs++;
      const dir = fresh();
      const before = new Set(filesUnder(dir));
      const warnings: string[] = [];
      let ok = false;
      let err = '';
      let ran = -1;
      let retried = 0;
      const t0 = performance.now();
      try {
        const p = await loadToy(dir);
        const remote = new RemoteCache(srv.url + prefix, { key: o.key ?? '', warn: (m) => warnings.push(m), timeoutMs: o.timeoutMs ?? 10_000 });
        await p.layer({ remote: remote });
        const r = await p.build(['c']);
        ran = r.runs.filter((x) => x.status === 'ran').length;
        retried = remote.stats.retried;
        ok = JSON.stringify((await p.output(r.entries.c)).json) === refOut && Object.entries(refHash).every(([s, h]) => r.entries[s]?.outputHash === h);
        if (!ok) err = 'other outputs';
      } catch (e) {
        err = (e as Error).message.split('\n')[0];
      }
      const leaked = filesUnder(dir).filter((f) => !before.has(f) && !f.startsWith(`cache${path.sep}`) && !f.startsWith(path.join('reports', 'toy') + path.sep));
      for (const name of o.escapes ?? []) if (fs.statSync(path.resolve(dir, 'reports', name), { throwIfNoEntry: false })?.isFile()) leaked.push(name); // where the name would have put a file
      outsideFiles += leaked.length;
      return { ok, wrong: (!err && !ok) || err === 'other outputs' || leaked.length > 0, err, warnings, ms: performance.now() - t0, ran, retried };
    };
    const row = (name: string) => {
      opts.log(`${name}…`);
      const r: Row = { name, tried: 0, recovered: 0, wrong: 0 };
      rows.push(r);
      return (v: { ok: boolean; wrong: boolean; err: string }) => {
        r.tried++;
        if (v.ok && !v.wrong) r.recovered++;
        if (v.wrong) r.wrong++;
        if (v.err && !r.note) r.note = v.err.slice(0, 120);
      };
    };
    const reps = opts.quick ? 1 : 3;

    // Re-sealed wrong outputs: b's JSON, a's tensor re-encoded, c's artifact.
    const resealed = row('remote: re-sealed wrong outputs');
    for (let i = 0; i < reps; i++) {
      const s = await seed();
      const forged = Buffer.from(JSON.stringify({ sum: 1000 + i }));
      s.put(`${s.prefix}/cas/${sha256(forged)}`, forged);
      const b = s.entry('b');
      s.put(s.ac('b'), reseal({ ...b, outputs: { ...b.outputs, json: { hash: sha256(forged), bytes: forged.length } } }));
      resealed(await victim(s.prefix));
      const t = Buffer.from(encodeTensor({ dtype: 'float64', shape: [4], data: new Float64Array([9, 9, 9, i]) }));
      s.put(`${s.prefix}/cas/${sha256(t)}`, t);
      const a = s.entry('a');
      s.put(s.ac('a'), reseal({ ...a, outputs: { ...a.outputs, tensors: { v: { hash: sha256(t), bytes: t.length, dtype: 'float64', shape: [4] } } } }));
      resealed(await victim(s.prefix));
    }

    // Escaping artifact names.
    const escaping = row('remote: escaping artifact names');
    const evil = ['../pwned-1.txt', '../../pwned-2.txt', '/tmp/ti-pwned-3.txt', 'toy/../../pwned-4.txt', 'toy/x/y/pwned-5.txt', '..', 'toy/.hidden'];
    for (const name of opts.quick ? evil.slice(0, 3) : evil) {
      const s = await seed();
      const c = s.entry('c');
      s.put(s.ac('c'), reseal({ ...c, outputs: { ...c.outputs, artifacts: { [name]: c.outputs.artifacts['toy/out.txt'] } } }));
      escaping(await victim(s.prefix, { escapes: [name] }));
    }

    // Malformed entries.
    const malformed = row('remote: malformed entries');
    {
      const s = await seed();
      const a = s.entry('a');
      const cases: any[] = [
        { ...a, outputs: { ...a.outputs, json: { hash: '../../../../etc/passwd', bytes: 10 } } },
        { ...a, outputs: { json: a.outputs.json, artifacts: {} } },
        { ...a, outputs: { ...a.outputs, artifacts: null } },
        { ...a, outputs: 'x' },
        { ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, dtype: '__proto__' } } } },
        { ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, shape: [2, 2] } } } }, // the file holds [4]
        { ...a, outputs: { ...a.outputs, tensors: { v: { ...a.outputs.tensors.v, shape: [1e6] } } } },
        { ...a, key: 'k' },
        [a],
      ];
      for (const forged of opts.quick ? cases.slice(0, 4) : cases) {
        s.put(s.ac('a'), reseal(forged));
        malformed(await victim(s.prefix));
      }
      s.put(s.ac('a'), Buffer.from('{"key":'));
      malformed(await victim(s.prefix));
    }

    // Tags under TOTAL_INTERP_REMOTE_KEY.
    const tags = row('remote: entries without a valid HMAC tag');
    {
      const key = 'bench-key-1';
      let s = await seed(key);
      tags(await victim(s.prefix, { key: 'another-key' }));
      s.put(s.ac('a'), reseal(s.entry('a')));
      tags(await victim(s.prefix, { key }));
      s = await seed(key);
      const b = s.entry('b');
      const forged = Buffer.from(JSON.stringify({ sum: 4242 }));
      s.put(`${s.prefix}/cas/${sha256(forged)}`, forged);
      s.put(s.ac('b'), reseal({ ...b, outputs: { ...b.outputs, json: { hash: sha256(forged), bytes: forged.length } } }, true));
      tags(await victim(s.prefix, { key }));
    }

    // Broken answers: huge bodies, stalls, resets.
    /** `served`: recovered only if nothing was built (the remote served every stage). */
    const broken = async (name: string, fault: Fault, match: (m: string, p: string) => boolean, o: { timeoutMs?: number; count?: number; served?: boolean } = {}) => {
      const add = row(name);
      const s = await seed();
      const notes: string[] = [];
      let left = o.count ?? Infinity;
      srv.fault = (m, p) => (match(m, p) && left-- > 0 ? fault : null);
      srv.sentBytes = 0;
      const v = await victim(s.prefix, { timeoutMs: o.timeoutMs });
      srv.fault = () => null;
      add({ ...v, ok: v.ok && (!o.served || v.ran === 0) });
      notes.push(`${(v.ms / 1000).toFixed(1)} s, ${v.ran} of 3 stages built here${v.retried ? `, ${v.retried} request retried` : ''}`);
      if (fault?.startsWith('huge')) notes.push(`${(srv.sentBytes / 2 ** 20).toFixed(1)} MiB of ${opts.quick ? 64 : 1024} MiB sent`);
      const r = rows[rows.length - 1];
      r.note = [r.note, ...notes].filter(Boolean).join('; ');
    };
    const objGet = (m: string, p: string) => m === 'GET' && p.includes('/cas/');
    await broken('remote: body far larger than declared', 'huge', objGet);
    await broken('remote: endless body without a length', 'huge-chunked', objGet);
    await broken('remote: stalled answer', 'slow', (m, p) => m === 'GET' && p.includes('/ac/'), { timeoutMs: 1500 });
    await broken('remote: connection reset once (retried, then served)', 'reset', (m) => m === 'GET', { count: 1, served: true });
    await broken('remote: connection reset every time', 'reset', () => true);

    rows.push({ name: 'remote: files written outside the cache or reports/<label>/', tried: runs, recovered: runs, wrong: outsideFiles, note: `${outsideFiles} files` });
    for (const r of rows) opts.log(`${r.name}: ${r.recovered}/${r.tried} recovered, ${r.wrong} wrong${r.note ? ` (${r.note})` : ''}`);
    return rows;
  } finally {
    await srv.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const rows = await run({ root: os.tmpdir(), log: (s) => process.stderr.write(`${s}\n`), quick: process.argv.includes('--quick') });
  console.table(rows);
  process.exitCode = rows.some((r) => r.wrong > 0) ? 1 : 0;
}
