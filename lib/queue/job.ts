// The sandboxed job processor (loaded through processor.mjs): builds one sweep point's
// targets with the Pipeline API, in the worker's project, local cache and remote cache,
// holding a Redis key lock around each stage build. Each stage line becomes a progress
// event of the job, which the submitter shows. The sweep's parent job (the aggregate)
// just collects its children's results.
//
// Before building, a point is checked (guard.ts): params that are values only, a submitter
// whose heartbeat is still in Redis, and data that hashes to what the submitter named. A
// refused point fails at once (UnrecoverableError: no retry) and nothing it names is read.

import os from 'node:os';
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { Redis } from 'ioredis';
import { Pipeline } from '../engine/pipeline.ts';
import { RemoteCache } from '../engine/keep/remote.ts';
import { eventLine } from '../engine/run/progress.ts';
import { RedisKeyLock } from './keylock.ts';
import { checkPointJob } from './guard.ts';
import { QueueError, submitterKey, type PointEvent, type PointJob, type PointResult, type WorkerConfig } from './types.ts';

let loaded: Promise<Pipeline> | null = null;
let locker: RedisKeyLock | null = null;
let redis: Redis | null = null;
let dying = false;

/**
 * The worker process is gone (killed, or its machine failed): release the key locks this
 * process holds and exit, so the stalled job goes to another worker, which finds whatever
 * was pushed before this point. Without this the orphan kept building, each write to its
 * closed stderr pipe raising EPIPE, and kept renewing its locks. While a stage blocks the
 * event loop, the lock renewal thread notices the orphaning instead (keylock.ts).
 */
async function orphaned(): Promise<void> {
  if (dying) return;
  dying = true;
  await Promise.race([locker?.releaseAll(), new Promise((r) => setTimeout(r, 2000))]).catch(() => {});
  process.exit(1);
}
if (process.send) {
  process.once('disconnect', () => void orphaned());
  for (const s of [process.stdout, process.stderr]) s.on('error', () => void orphaned());
}

async function load(cfg: WorkerConfig): Promise<Pipeline> {
  const p = await Pipeline.load({ root: cfg.root, stageFiles: cfg.stageFiles, cacheDir: cfg.cacheDir, reportsDir: cfg.reportsDir });
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  locker = new RedisKeyLock(cfg.queue, { ttlMs: cfg.lockTtlMs, warn, exitWithParent: !!process.send });
  redis = new Redis(cfg.queue, { maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  const remote = cfg.remote ? new RemoteCache(cfg.remote, { ...cfg.remoteSettings, warn }) : null;
  await p.layer({ remote, keyLock: locker });
  return p;
}

/** Refuse a point that may not be built here (guard.ts), before anything it names is read. */
async function admit(p: Pipeline, job: SandboxedJob<PointJob>): Promise<void> {
  try {
    checkPointJob(p, job.data, 'worker', true);
  } catch (e) {
    throw e instanceof QueueError ? new UnrecoverableError(e.message) : e;
  }
  if (!(await redis!.exists(submitterKey(job.data.submitter!)))) {
    throw new UnrecoverableError(`refused job ${job.data.label}: its submitter is gone (no heartbeat in the queue); a dead submitter's points are not built`);
  }
}

/** Read the point's data from this worker's own sources and check it is the data the job names. */
async function checkData(p: Pipeline, job: SandboxedJob<PointJob>): Promise<void> {
  if (!p.byName.has('data')) return;
  const want = job.data.data?.sha256;
  if (!want) throw new UnrecoverableError(`refused job ${job.data.label}: it does not name its data by sha256`);
  const { entries } = await p.build(['data'], { overrides: { data: job.data.overrides.data ?? {} } });
  const got = p.json(entries.data).sha256;
  if (got !== want) {
    throw new UnrecoverableError(`point ${job.data.label}: the data this worker read (sha256 ${String(got).slice(0, 16)}…) is not the data the submitter named (sha256 ${want.slice(0, 16)}…)\nhint: give every worker the same data source (ENWIK9) as the submitter`);
  }
}

export default async function processPoint(job: SandboxedJob<PointJob>): Promise<PointResult | { points: number }> {
  if (job.name === 'sweep') return { points: Object.keys(await job.getChildrenValues()).length };
  const cfg: WorkerConfig = JSON.parse(process.env.TOTAL_INTERP_WORKER ?? 'null');
  if (!cfg) throw new Error('worker: TOTAL_INTERP_WORKER is not set (start workers with `pipeline.ts worker`)');
  const p = await (loaded ??= load(cfg));
  await admit(p, job);
  const worker = `${os.hostname()} pid ${process.pid}`;
  const { label } = job.data;
  const send = (e: Omit<PointEvent, 'label' | 'worker'>) => void job.updateProgress({ label, worker, ...e }).catch(() => {});
  p.reporter = {
    line(text) {
      process.stderr.write(`[${label}] ${text.trim()}\n`);
    },
    // The build's events go to the submitter as they are (a stage's failure reaches it as the job's).
    event(e) {
      const detail = eventLine(e)?.trim();
      if (e.kind === 'ran' || e.kind === 'cached' || e.kind === 'waiting') send({ stage: e.stage, status: e.kind, detail });
    },
    stage(name) {
      send({ stage: name, status: 'start' });
      return Object.assign(() => {}, { done() {} });
    },
  };
  process.stderr.write(`[${label}] building ${job.data.targets.join(' ')} (attempt ${job.attemptsMade + 1})\n`);
  await checkData(p, job);
  const { runs } = await p.build(job.data.targets, { overrides: job.data.overrides });
  return { label, worker, runs, attempt: job.attemptsMade + 1 };
}
