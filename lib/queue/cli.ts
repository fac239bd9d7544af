// The CLI side of the queue and the remote cache, kept out of lib/cli/main.ts so that
// file only calls these functions:
//   attachRemote   --remote-cache URL / TOTAL_INTERP_REMOTE_CACHE for report, run, worker
//   workerCommand  `worker --queue redis://HOST:PORT [--remote-cache URL]`
//
// Environment: TOTAL_INTERP_REMOTE_CACHE (URL), TOTAL_INTERP_REMOTE_CACHE_AUTH (user:pass),
// TOTAL_INTERP_REMOTE_KEY (entry tags), TOTAL_INTERP_REMOTE_MAX_BYTES (download cap),
// TOTAL_INTERP_WORKER_CONCURRENCY (default: the cores), TOTAL_INTERP_QUEUE_LOCK_MS (job
// and key lock lifetime; a dead worker's job is taken over after about this long; 30000),
// TOTAL_INTERP_QUEUE_GONE_MS (a submitter gives up when Redis has not answered this long;
// 30000), TOTAL_INTERP_QUEUE_HEARTBEAT_MS (a submitter's heartbeat lifetime: points of a
// submitter dead this long are refused by the workers; 20000).

import type { Overrides, Pipeline } from '../engine/pipeline.ts';
import { RemoteCache } from '../engine/keep/remote.ts';
import { QueueError, type PointJob, type RemoteSettings } from './types.ts';
// bullmq and ioredis load only when a queue is used (submit.ts, worker.ts): not on every run.

type Env = Record<string, string | undefined>;

/**
 * The remote cache's settings from the environment: TOTAL_INTERP_REMOTE_CACHE_AUTH (user:pass),
 * TOTAL_INTERP_REMOTE_KEY (entries pushed are tagged with it, and only tagged ones are served)
 * and TOTAL_INTERP_REMOTE_MAX_BYTES (the most one download may be; default 8 GiB).
 */
export function remoteSettings(env: Env): RemoteSettings {
  const max = env.TOTAL_INTERP_REMOTE_MAX_BYTES;
  if (max && (!/^\d+$/.test(max) || !(Number(max) >= 1) || !Number.isSafeInteger(Number(max)))) {
    throw new QueueError('usage', `TOTAL_INTERP_REMOTE_MAX_BYTES: expected a positive number of bytes, got ${JSON.stringify(max)}`, 'e.g. TOTAL_INTERP_REMOTE_MAX_BYTES=4294967296 (4 GiB)');
  }
  return {
    ...(env.TOTAL_INTERP_REMOTE_CACHE_AUTH ? { auth: env.TOTAL_INTERP_REMOTE_CACHE_AUTH } : {}),
    ...(env.TOTAL_INTERP_REMOTE_KEY ? { key: env.TOTAL_INTERP_REMOTE_KEY } : {}),
    ...(max ? { maxBytes: Number(max) } : {}),
  };
}

/** Put the configured remote cache, if any, behind the pipeline's store. */
export async function attachRemote(p: Pipeline, flag: string | undefined, env: Env = process.env, warn?: (m: string) => void): Promise<RemoteCache | null> {
  const url = flag ?? env.TOTAL_INTERP_REMOTE_CACHE;
  if (!url) return null;
  const remote = new RemoteCache(url, { ...remoteSettings(env), warn: warn ?? ((m) => p.reporter.line(`warning: ${m}`)) });
  await p.layer({ remote });
  return remote;
}

function intEnv(env: Env, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new QueueError('usage', `${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `worker`: serve the queue until SIGINT/SIGTERM. */
export async function workerCommand(p: Pipeline, o: { queue?: string; remoteCache?: string }, env: Env = process.env): Promise<number> {
  if (!o.queue) throw new QueueError('usage', 'worker: --queue is required', 'npx tsx pipeline.ts worker --queue redis://127.0.0.1:6379 --remote-cache http://HOST:PORT/cache');
  const remote = o.remoteCache ?? env.TOTAL_INTERP_REMOTE_CACHE;
  const settings = remoteSettings(env); // a bad setting is a usage error now, not in every job
  if (remote) new RemoteCache(remote, settings); // so is a bad URL
  else p.reporter.line('warning: worker without --remote-cache: points it builds stay in its local cache (other machines rebuild them)');
  const { pingRedis } = await import('./submit.ts');
  await pingRedis(o.queue);
  const { startWorker } = await import('./worker.ts');
  const lockMs = intEnv(env, 'TOTAL_INTERP_QUEUE_LOCK_MS', 30_000);
  const w = await startWorker({
    root: p.root,
    stageFiles: p.stages.map((s) => s.file),
    cacheDir: p.store.root,
    reportsDir: p.reportsDir,
    remote,
    remoteSettings: settings,
    queue: o.queue,
    lockTtlMs: lockMs,
    lockDurationMs: lockMs,
    concurrency: env.TOTAL_INTERP_WORKER_CONCURRENCY ? intEnv(env, 'TOTAL_INTERP_WORKER_CONCURRENCY', 1) : undefined,
    log: (l) => p.reporter.line(l),
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  p.reporter.line('worker: finishing the jobs in hand, then stopping');
  await w.close();
  return 0;
}

/** The points of `report --seeds`: one build of the report per seed (the tests' and the reliability bench's). */
export function seedPoints(seeds: number[], overrides: Overrides): PointJob[] {
  return seeds.map((seed) => ({ label: `seed${seed}`, overrides: { ...overrides, train: { ...(overrides.train ?? {}), seed } }, targets: ['report'] }));
}

