// Submitting a sweep to the workers: one BullMQ job per point, as a flow whose parent (the
// aggregate) completes when every point has. Progress comes from the jobs' events; failed
// points are retried with exponential backoff; a point that fails every attempt fails the
// sweep. Resolves with each point's result once the parent is done.
//
// Before anything is queued, every point is checked (guard.ts: no file or URL params) and
// the data each one reads is built here once, so the job can name it by sha256. While the
// sweep runs, the submitter keeps a heartbeat key in Redis (the jobs name it; a worker
// builds nothing for a submitter whose heartbeat is gone) and watches the queue:
//   - Redis not answering for `goneMs`: give up with one error (no ioredis stack dumps);
//   - the sweep's jobs gone (Redis restarted empty): give up at once instead of waiting;
//   - on giving up, on an error, and on SIGINT/SIGTERM, its jobs are removed from the queue
//     and its heartbeat deleted, so a worker does not build them later.

import { randomBytes } from 'node:crypto';
import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { redactText } from '../engine/keep/remote.ts';
import type { Pipeline } from '../engine/pipeline.ts';
import { checkPointJob, dataParams } from './guard.ts';
import { QUEUE_NAME, QueueError, submitterKey, type PointEvent, type PointJob, type PointResult } from './types.ts';

export interface SubmitOptions {
  queue: string;
  /** The submitter's project: points are checked against its stages and their data built here. */
  pipeline: Pipeline;
  /** Each progress event (default: a line on stderr). */
  onEvent?: (e: PointEvent) => void;
  attempts?: number;
  backoffMs?: number;
  /** Give up when Redis has not answered for this long (default TOTAL_INTERP_QUEUE_GONE_MS, else 30 s). */
  goneMs?: number;
  /** The heartbeat key's lifetime; it is renewed every ttl/5 (default TOTAL_INTERP_QUEUE_HEARTBEAT_MS, else 20 s). */
  heartbeatMs?: number;
  /** Remove the jobs and stop on SIGINT/SIGTERM (default true). */
  signals?: boolean;
}

const DEFAULT_GONE_MS = 30_000;

/** Fail fast, with a hint, when Redis is not there (ioredis would retry forever). */
export async function pingRedis(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  let cause: Error | null = null;
  r.on('error', (e: Error) => (cause ??= e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const err = (cause ?? e) as Error & { code?: string };
    throw new QueueError('usage', `cannot reach the queue at ${redactText(url)}: ${err.code ?? redactText(err.message)}`, `start redis-server there, or check --queue redis://HOST:PORT`);
  } finally {
    r.disconnect();
  }
}

export function printEvent(e: PointEvent): void {
  if (e.status === 'start' || e.status === 'cached' || e.status === 'active') return;
  const what = e.stage ? `${e.status} ${e.stage}` : e.status;
  process.stderr.write(`[${e.label}] ${what}${e.detail && !e.stage ? `: ${e.detail}` : ''}  (${e.worker})\n`);
}

function msEnv(name: string, fallback: number, env: Record<string, string | undefined> = process.env): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new QueueError('usage', `${name}: expected a positive integer (ms), got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Check every point and name the data each reads by its sha256 (built here, once per data params). */
export async function preparePoints(p: Pipeline, points: PointJob[], submitter: string): Promise<PointJob[]> {
  for (const pt of points) checkPointJob(p, pt, 'submit');
  const hashes = new Map<string, string>();
  const out: PointJob[] = [];
  for (const pt of points) {
    let data: PointJob['data'];
    if (p.byName.has('data')) {
      const k = dataParams(pt.overrides);
      if (!hashes.has(k)) {
        const { entries } = await p.build(['data'], { overrides: { data: pt.overrides.data ?? {} } });
        const sha = p.json(entries.data).sha256;
        if (typeof sha !== 'string') throw new QueueError('stage-failed', 'the data stage names no sha256: cannot name the data of the queued points');
        hashes.set(k, sha);
      }
      data = { sha256: hashes.get(k)! };
    }
    out.push({ ...pt, ...(data ? { data } : {}), submitter });
  }
  return out;
}

export async function submitSweep(points: PointJob[], o: SubmitOptions): Promise<PointResult[]> {
  if (!points.length) return [];
  const labels = new Set(points.map((p) => p.label));
  if (labels.size !== points.length) throw new QueueError('usage', 'submitSweep: point labels must be unique');
  const submitter = randomBytes(12).toString('hex');
  const jobs = await preparePoints(o.pipeline, points, submitter);
  await pingRedis(o.queue);
  const goneMs = o.goneMs ?? msEnv('TOTAL_INTERP_QUEUE_GONE_MS', DEFAULT_GONE_MS);
  const heartbeatMs = o.heartbeatMs ?? msEnv('TOTAL_INTERP_QUEUE_HEARTBEAT_MS', 20_000);
  const where = redactText(o.queue);
  const connection = { url: o.queue };
  const onEvent = o.onEvent ?? printEvent;
  const quiet = () => {}; // connection errors are judged below, once, not dumped per retry
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const flow = new FlowProducer({ connection });
  const queue = new Queue(QUEUE_NAME, { connection });
  for (const x of [events, flow, queue] as { on(ev: 'error', f: () => void): unknown }[]) x.on('error', quiet);
  const beat = new Redis(o.queue, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: (n) => Math.min(200 * n, 1000), connectTimeout: 2000 });
  beat.on('error', quiet);
  const hbKey = submitterKey(submitter);
  const byId = new Map<string, string>();
  let parentId: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let fail: (e: Error) => void = () => {};
  const stopped = new Promise<never>((_, reject) => (fail = reject));
  stopped.catch(() => {});
  let signalled = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signalled > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    fail(new QueueError('stage-failed', `stopped by ${sig}: the sweep's jobs were removed from the queue`));
  };
  const signals = o.signals !== false;
  if (signals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  let ok = false;
  let unreachable = false;
  try {
    await beat.connect();
    await beat.set(hbKey, String(process.pid), 'PX', heartbeatMs);
    // The watchdog: renew the heartbeat, see that Redis answers and that the sweep is still there.
    let lastOk = Date.now();
    const tick = async () => {
      try {
        await beat.set(hbKey, String(process.pid), 'PX', heartbeatMs);
        if (parentId && (await queue.getJobState(parentId)) === 'unknown') {
          fail(new QueueError('stage-failed', `the sweep's jobs are gone from the queue at ${where} (Redis restarted empty, or they were removed)`, `submit the sweep again; points already built are pulled from the caches`));
          return;
        }
        lastOk = Date.now();
      } catch {
        if (Date.now() - lastOk > goneMs) {
          unreachable = true;
          fail(new QueueError('stage-failed', `the queue at ${where} has not answered for ${Math.round((Date.now() - lastOk) / 1000)} s; giving up`, `restart redis-server and submit again (points already built are pulled from the caches); TOTAL_INTERP_QUEUE_GONE_MS sets how long to wait (now ${goneMs} ms)`));
        }
      }
    };
    const every = Math.max(100, Math.min(1000, Math.floor(heartbeatMs / 5), Math.floor(goneMs / 4)));
    timer = setInterval(() => void tick(), every);
    await Promise.race([events.waitUntilReady(), stopped]);
    events.on('progress', ({ jobId, data }) => {
      if (byId.has(jobId) && data && typeof data === 'object') onEvent(data as unknown as PointEvent);
    });
    events.on('active', ({ jobId }) => {
      if (byId.has(jobId)) onEvent({ label: byId.get(jobId)!, worker: 'queue', status: 'active' });
    });
    events.on('stalled', ({ jobId }) => {
      if (byId.has(jobId)) onEvent({ label: byId.get(jobId)!, worker: 'queue', status: 'stalled', detail: 'its worker stopped answering; another worker takes it over' });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (byId.has(jobId)) onEvent({ label: byId.get(jobId)!, worker: 'queue', status: 'failed', detail: redactText(String(failedReason).split('\n')[0]) });
    });
    events.on('completed', ({ jobId }) => {
      if (byId.has(jobId)) onEvent({ label: byId.get(jobId)!, worker: 'queue', status: 'done' });
    });
    const tree = await Promise.race([
      flow.add({
        name: 'sweep',
        queueName: QUEUE_NAME,
        data: { labels: [...labels], submitter },
        children: jobs.map((p) => ({
          name: 'point',
          queueName: QUEUE_NAME,
          data: p,
          opts: { attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 2000 }, failParentOnFailure: true },
        })),
      }),
      stopped,
    ]);
    parentId = tree.job.id!;
    for (const c of tree.children ?? []) byId.set(c.job.id!, (c.job.data as PointJob).label);
    try {
      await Promise.race([tree.job.waitUntilFinished(events), stopped]);
    } catch (e) {
      if (e instanceof QueueError) throw e;
      // The parent's reason only names the failed child: give the child's own.
      const reasons: string[] = [];
      for (const c of tree.children ?? []) {
        const job = await Job.fromId(queue, c.job.id!);
        if (job?.failedReason) reasons.push(`${byId.get(c.job.id!)}: ${job.failedReason.split('\n').slice(0, 3).join(' ')} (after ${job.attemptsMade} attempts)`);
      }
      throw new QueueError('stage-failed', `sweep failed: ${redactText(reasons.join('; ') || (e as Error).message.split('\n')[0])}`);
    }
    const results: PointResult[] = [];
    for (const c of tree.children ?? []) {
      const job = await Job.fromId(queue, c.job.id!);
      results.push(job!.returnvalue as PointResult);
    }
    ok = true;
    return results;
  } finally {
    if (timer) clearInterval(timer);
    if (signals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    // Dying or done, the heartbeat goes; dying, the jobs go too (bounded: Redis may be gone,
    // and when it has not answered there is nothing to wait for: its heartbeat expires).
    const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (!unreachable) {
      await bounded(
        (async () => {
          await beat.del(hbKey).catch(() => {});
          if (!ok && parentId) await queue.remove(parentId, { removeChildren: true }).catch(() => {});
          if (!ok) for (const id of byId.keys()) await queue.remove(id).catch(() => {});
        })(),
      );
    }
    beat.disconnect();
    // close() stops QueueEvents' reading loop (a bare disconnect would reconnect forever);
    // it is waited for only while Redis answers, and the sockets are forced shut after.
    const closing = Promise.allSettled([events.close(), flow.close(), queue.close()]);
    if (!unreachable) await bounded(closing);
    if (!ok) for (const x of [events, flow, queue]) void x.disconnect().catch(() => {});
  }
}
