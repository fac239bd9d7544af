// Issue 16's loopback test: a tiny seed sweep (H = 8, 20 epochs) across two worker
// processes (each with its own local cache, as two machines would have), one Redis queue
// and one nginx WebDAV remote cache, all on 127.0.0.1.
//
//   1. two seeds on two workers: every stage key is built once across both (the shared
//      data stages included: the Redis key lock makes the second worker wait and pull), and
//      every stage's output equals a plain local run's;
//   2. a worker SIGKILLed (with its sandboxed children) in the middle of a point: the other
//      worker takes the stalled job over and completes it, pulling what the dead one pushed;
//   3. local caches emptied: `report --seeds … --queue` from the CLI is served entirely from
//      the remote (no stage runs anywhere) and writes the aggregate.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, type Overrides } from '../../lib/engine/pipeline.ts';
import { RemoteCache } from '../../lib/engine/keep/remote.ts';
import { submitSweep } from '../../lib/queue/submit.ts';
import { seedPoints } from '../../lib/queue/cli.ts';
import type { PointEvent, PointResult } from '../../lib/queue/types.ts';
import { copyProject, pipelineCli } from '../helpers/project.ts';
import { missing, startNginx, startRedis, type Server } from '../helpers/servers.ts';
import { startWorker as startPipelineWorker, stopWorkers, type WorkerProc } from '../helpers/workers.ts';

const why = missing();
if (why) console.log(`skipping the distributed sweep test: ${why}`);

// Tiny: H = 8, 20 epochs; the shift-register construction and reverse isomorphism (seed-
// independent, the slowest stages at their defaults) with short searches.
const TINY: Overrides = { train: { hidden: 8, epochs: 20 }, construction: { steps: 20, scaleCount: 6, alphaCount: 2 }, 'reverse-iso': { steps: 20 } };
const TINY_ARGS = Object.entries(TINY).flatMap(([stage, ps]) => Object.entries(ps).flatMap(([k, v]) => ['--set', `${stage}.${k}=${v}`]));

describe.skipIf(!!why)('sweep across two BullMQ workers sharing an nginx remote cache', () => {
  let redis: Server;
  let nginx: Server & { root: string };
  let dir: string;
  let tmp: string;
  let remoteUrl: string;
  const workers: WorkerProc[] = [];
  const env: Record<string, string> = {}; // the project copy reads the data shipped in data/
  let STAGES: string[];
  let submitter: Pipeline; // the submitting machine's project: checks points, hashes their data
  /** Reference outputs of a plain local run: seed -> stage -> outputHash. */
  const reference: Record<number, Record<string, string>> = {};
  const events: PointEvent[] = [];

  async function startWorker(name: string): Promise<WorkerProc> {
    const w = await startPipelineWorker({ dir, name, cache: path.join(tmp, `cache-${name}`), queue: redis.url, remote: remoteUrl, env });
    workers.push(w);
    return w;
  }

  /** "[seed42] ran     train" lines of every worker's log, as "seed42 train". */
  const ranLines = () => workers.flatMap((w) => [...w.log().matchAll(/^\[(\S+)\] ran\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`));

  /** Build the seeds in-process with a local cache and the remote as second level. */
  async function pullLocally(seeds: number[], cacheDir: string) {
    const p = await Pipeline.load({ root: dir, stageFiles: STAGES, cacheDir, reportsDir: path.join(tmp, 'reports-pull'), env });
    const remote = new RemoteCache(remoteUrl);
    await p.layer({ remote });
    const out: Record<number, { statuses: string[]; hashes: Record<string, string> }> = {};
    for (const seed of seeds) {
      const { runs, entries } = await p.build(['report'], { overrides: { ...TINY, train: { ...TINY.train, seed } } });
      out[seed] = { statuses: [...new Set(runs.map((r) => r.status))], hashes: Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.outputHash])) };
    }
    return { out, remote };
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-sweep-'));
    dir = copyProject();
    STAGES = (await import(pathToFileURL(path.join(dir, 'pipeline.ts')).href)).STAGES;
    // With credentials, as serve.ts starts them: the workers, the submitter and the CLI take them in their URLs.
    [redis, nginx] = await Promise.all([startRedis({ password: 'sweep-redis-pw' }), startNginx({ auth: { user: 'sweep', pass: 'sweep-nginx-pw', everywhere: true } })]);
    env.TOTAL_INTERP_REMOTE_KEY = 'sweep-entry-key'; // entries pushed are tagged, and only tagged ones are served
    remoteUrl = `${nginx.url}/cache`;
    const started = Promise.all([startWorker('A'), startWorker('B')]); // they load while the reference builds
    submitter = await Pipeline.load({ root: dir, stageFiles: STAGES, cacheDir: path.join(tmp, 'cache-submitter'), reportsDir: path.join(tmp, 'reports-sub'), env });
    // The reference: a plain local run, no queue, no remote.
    const p = await Pipeline.load({ root: dir, stageFiles: STAGES, cacheDir: path.join(tmp, 'cache-reference'), reportsDir: path.join(tmp, 'reports-ref'), env });
    for (const seed of [42, 43, 44]) {
      const { entries } = await p.build(['report'], { overrides: { ...TINY, train: { ...TINY.train, seed } } });
      reference[seed] = Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.outputHash]));
    }
    await started;
  }, 120_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await Promise.all([redis?.stop(), nginx?.stop()]);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  let first: PointResult[];

  it('two seeds on two workers: each stage key built once, results identical to a local run', async () => {
    first = await submitSweep(seedPoints([42, 43], TINY), { queue: redis.url, pipeline: submitter, onEvent: (e) => events.push(e), backoffMs: 200 });
    expect(first.map((r) => r.label)).toEqual(['seed42', 'seed43']);
    // Both workers took a point (concurrency 1 each, two points queued at once).
    expect(workers.map((w) => /\[seed4[23]\] building/.test(w.log()))).toEqual([true, true]);
    // Each (stage, key) ran at most once across the two results…
    const ran = first.flatMap((r) => r.runs.filter((x) => x.status === 'ran').map((x) => `${x.name} ${x.key}`));
    expect(ran.length).toBe(new Set(ran).size);
    // …and the stages both seeds share (data, skipgrams, construction, reverse-iso) ran once in all logs.
    const lines = ranLines();
    for (const shared of ['data', 'skipgrams', 'construction', 'reverse-iso']) expect(lines.filter((l) => l.endsWith(` ${shared}`)), shared).toHaveLength(1);
    expect(lines.filter((l) => l.endsWith(' train')).sort()).toEqual(['seed42 train', 'seed43 train']);
    // Identical to the local run: pulled from the remote into an empty cache, nothing runs.
    const { out, remote } = await pullLocally([42, 43], path.join(tmp, 'cache-pull1'));
    for (const seed of [42, 43]) {
      expect(out[seed].statuses).toEqual(['cached']);
      expect(out[seed].hashes).toEqual(reference[seed]);
    }
    expect(remote.stats.rejected).toBe(0);
    expect(remote.stats.hits).toBeGreaterThan(15);
  }, 90_000);

  it('a worker SIGKILLed mid-job: the other takes the job over and completes it', async () => {
    const done = submitSweep(seedPoints([44], TINY), { queue: redis.url, pipeline: submitter, onEvent: (e) => events.push(e), backoffMs: 200 });
    // Wait until a worker is inside seed 44's build (past the shared data stage).
    const t0 = Date.now();
    while (!events.some((e) => e.label === 'seed44' && e.status === 'start' && e.stage !== 'data')) {
      if (Date.now() - t0 > 30_000) throw new Error(`seed44 never started:\n${workers.map((w) => w.log()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    let victim: WorkerProc | undefined;
    while (!(victim = workers.find((w) => /\[seed44\] building/.test(w.log())))) await new Promise((r) => setTimeout(r, 20));
    const survivor = workers.find((w) => w !== victim)!;
    const ranBefore = ranLines().filter((l) => l.startsWith('seed44 '));
    process.kill(-victim.proc.pid!, 'SIGKILL');
    const [r] = await done;
    expect(r.label).toBe('seed44');
    expect(survivor.log()).toMatch(/\[seed44\] building report/);
    expect(events.some((e) => e.label === 'seed44' && e.status === 'stalled')).toBe(true);
    expect(r.runs.find((x) => x.name === 'report')!.status).not.toBe('would-run');
    // What the victim finished before dying was pulled, not rebuilt.
    const ranAfter = ranLines().filter((l) => l.startsWith('seed44 '));
    expect(ranAfter.length).toBe(new Set(ranAfter).size);
    for (const l of ranBefore) expect(r.runs.find((x) => x.name === l.split(' ')[1])!.status).toBe('cached');
    const { out } = await pullLocally([44], path.join(tmp, 'cache-pull2'));
    expect(out[44].statuses).toEqual(['cached']);
    expect(out[44].hashes).toEqual(reference[44]);
  }, 90_000);

  it('a failing point is retried with backoff, then fails the sweep with its reason', async () => {
    const bad = [{ label: 'bad', overrides: { train: { hidden: 0 } }, targets: ['report'] }];
    const t0 = Date.now();
    await expect(submitSweep(bad, { queue: redis.url, pipeline: submitter, onEvent: (e) => events.push(e), attempts: 2, backoffMs: 300 })).rejects.toThrow(/^sweep failed: bad: invalid params for stage train: .*hidden.*\(after 2 attempts\)$/);
    expect(events.filter((e) => e.label === 'bad' && e.status === 'failed')).toHaveLength(1); // the final failure (a retried attempt is not one)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // the backoff was waited
  }, 30_000);

  it('--seeds --queue without a remote cache is a usage error, before anything is queued', async () => {
    const r = await pipelineCli(dir, ['report', '--seeds', '45', ...TINY_ARGS, '--queue', redis.url], { TOTAL_INTERP_CACHE: path.join(tmp, 'cache-none') });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --queue needs a remote cache shared with the workers\nhint: add --remote-cache/);
  }, 30_000);

  it('with the local caches emptied, report --seeds --queue is served entirely from the remote', async () => {
    for (const w of workers) fs.rmSync(w.cache, { recursive: true, force: true });
    const before = ranLines().length;
    const cli = await pipelineCli(dir, ['report', '--seeds', '42,43,44', ...TINY_ARGS, '--queue', redis.url, '--remote-cache', remoteUrl, '--json'], {
      TOTAL_INTERP_CACHE: path.join(tmp, 'cache-cli'),
    });
    expect(cli.code, cli.stderr).toBe(0);
    const j = JSON.parse(cli.stdout);
    expect(j.stages.length).toBe(3 * first[0].runs.length); // every stage of every seed
    expect(j.stages.filter((s: any) => s.status !== 'cached')).toEqual([]);
    expect(ranLines().length).toBe(before); // no worker ran anything either
    expect(cli.stderr).toMatch(/queue: 3 points done on \d worker process\(es\), 0 stages ran there/);
    expect(fs.existsSync(j.reportJson)).toBe(true);
    expect(JSON.parse(fs.readFileSync(j.reportJson, 'utf8')).metrics.trained_bpc.spread.n).toBe(3);
  }, 90_000);
});
