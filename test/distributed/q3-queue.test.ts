// `report --q3` through a queue gives the aggregate a plain run gives, byte for byte: the
// same tiny Q3 subset (two sizes, two seeds, H = 8, an 8 KiB held-out block at 960 KiB,
// short construction and reverse-iso searches) run once by the plain CLI with its own cache, and once with --queue and
// --remote-cache through two `worker` processes (each with its own local cache, as two
// machines would have), Redis and nginx on 127.0.0.1. Every file of the two aggregate
// folders (report.md, report.json, the plots, built-from.json) must be the same bytes.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { enwik1MiB } from '../helpers/reference.ts';
import { missing, startNginx, startRedis, filesUnder, type Server } from '../helpers/servers.ts';
import { startWorker, stopWorkers, type WorkerProc } from '../helpers/workers.ts';

const enwik = enwik1MiB();
const why = missing() ?? (enwik ? null : "no first MiB of enwik9 (set TOTAL_INTERP_ENWIK9_1MIB, or put ../shared/reference/enwik9-head-1MiB.txt beside the project)");
if (why) console.log(`skipping the report --q3 through a queue test: ${why}`);

const SIZES = [1024, 2048];
const SEEDS = [42, 43];
// The held-out block keeps Q3's offset but is 8 KiB, not 64: scoring it every epoch was half the CPU time.
const TINY = ['data.heldoutBytes=8192', 'train.hidden=8', 'train.predictions=8000', 'train.minEpochs=4', 'construction.steps=20', 'construction.scaleCount=6', 'construction.alphaCount=2', 'reverse-iso.steps=20'];
const ARGS = ['report', '--q3', '--sweep', `data.bytes=${SIZES.join(',')}`, '--seeds', SEEDS.join(','), ...TINY.flatMap((s) => ['--set', s]), '--json'];

/** Every file under an aggregate folder, by relative path. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(filesUnder(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

/** What differs between two snapshots: a file on one side only, or where a file first differs (its line, and 100 bytes around it on each side). */
function differences(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const out: string[] = [];
  for (const f of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(f);
    const y = b.get(f);
    if (!x || !y) out.push(`${f}: only in the ${x ? 'local' : 'queued'} aggregate`);
    else if (!x.equals(y)) {
      let at = 0;
      while (at < x.length && at < y.length && x[at] === y[at]) at++;
      const line = x.subarray(0, at).toString('utf8').split('\n').length;
      const around = (z: Buffer) => JSON.stringify(z.subarray(Math.max(0, at - 50), at + 50).toString('utf8'));
      out.push(`${f} (${x.length} vs ${y.length} bytes), from byte ${at} (line ${line}):\n  local:  ${around(x)}\n  queued: ${around(y)}`);
    }
  }
  return out;
}

describe.skipIf(!!why)('report --q3 through two workers gives the plain run\'s aggregate', () => {
  let redis: Server;
  let nginx: Server;
  let dir: string;
  let tmp: string;
  const workers: WorkerProc[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-q3q-'));
    dir = copyProject();
    [redis, nginx] = await Promise.all([startRedis(), startNginx()]);
  }, 60_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await Promise.all([redis?.stop(), nginx?.stop()]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('the aggregate folders are byte-identical', async () => {
    const remote = `${nginx.url}/cache`;
    const env = { ENWIK9: enwik! };
    // The workers start (tsx, the project) while the plain run builds.
    const started = Promise.all(['A', 'B'].map((name) => startWorker({ dir, name, cache: path.join(tmp, `cache-${name}`), queue: redis.url, remote, env })));
    const local = await pipelineCli(dir, ARGS, { ...env, TOTAL_INTERP_CACHE: path.join(tmp, 'cache-local') });
    workers.push(...(await started));
    expect(local.code, local.stderr).toBe(0);
    const lj = JSON.parse(local.stdout);
    const aggregate = path.dirname(lj.report);
    const plain = snapshot(aggregate); // the queued run writes the same folder (the same label)
    expect([...plain.keys()]).toEqual(expect.arrayContaining(['report.md', 'report.json', 'built-from.json', 'plots/bpc.svg', 'plots/heldout-curves.svg']));
    fs.rmSync(aggregate, { recursive: true });

    const queued = await pipelineCli(dir, [...ARGS, '--queue', redis.url, '--remote-cache', remote], { ...env, TOTAL_INTERP_CACHE: path.join(tmp, 'cache-submitter') });
    expect(queued.code, `${queued.stderr}\n${workers.map((w) => w.log()).join('\n')}`).toBe(0);
    const qj = JSON.parse(queued.stdout);
    expect(qj.report).toBe(lj.report);
    // The workers built every point (both took some, concurrency 1 each) and the submitter ran nothing.
    expect(queued.stderr).toMatch(/queue: 4 points done on 2 worker process\(es\), \d+ stages ran there/);
    expect(qj.stages.filter((s: { status: string }) => s.status !== 'cached')).toEqual([]);
    expect(qj.stages.length).toBe(lj.stages.length);

    const diffs = differences(plain, snapshot(aggregate));
    expect(diffs, `the aggregates differ:\n${diffs.join('\n')}`).toEqual([]);
  }, 240_000);
});
