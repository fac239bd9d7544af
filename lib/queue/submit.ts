// Submitting a sweep to the workers: one BullMQ job per point, as a flow whose parent (the
// aggregate) completes when every point has. Progress comes from the jobs' events; failed
// points are retried with exponential backoff; a point that fails every attempt fails the
// sweep. Resolves with each point's result once the parent is done.

import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { redactText } from '../engine/remote.ts';
import { QUEUE_NAME, QueueError, type PointEvent, type PointJob, type PointResult } from './types.ts';

export interface SubmitOptions {
  queue: string;
  /** Each progress event (default: a line on stderr). */
  onEvent?: (e: PointEvent) => void;
  attempts?: number;
  backoffMs?: number;
}

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
    throw new QueueError('usage', `cannot reach the queue at ${redactText(url)}: ${err.code ?? redactText(err.message)}\nhint: start redis-server there, or check --queue redis://HOST:PORT`);
  } finally {
    r.disconnect();
  }
}

export function printEvent(e: PointEvent): void {
  if (e.status === 'start' || e.status === 'cached' || e.status === 'active') return;
  const what = e.stage ? `${e.status} ${e.stage}` : e.status;
  process.stderr.write(`[${e.label}] ${what}${e.detail && !e.stage ? `: ${e.detail}` : ''}  (${e.worker})\n`);
}

export async function submitSweep(points: PointJob[], o: SubmitOptions): Promise<PointResult[]> {
  if (!points.length) return [];
  const labels = new Set(points.map((p) => p.label));
  if (labels.size !== points.length) throw new QueueError('usage', 'submitSweep: point labels must be unique');
  await pingRedis(o.queue);
  const connection = { url: o.queue };
  const onEvent = o.onEvent ?? printEvent;
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const flow = new FlowProducer({ connection });
  const queue = new Queue(QUEUE_NAME, { connection });
  const byId = new Map<string, string>();
  try {
    await events.waitUntilReady();
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
    const tree = await flow.add({
      name: 'sweep',
      queueName: QUEUE_NAME,
      data: { labels: [...labels] },
      children: points.map((p) => ({
        name: 'point',
        queueName: QUEUE_NAME,
        data: p,
        opts: { attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 2000 }, failParentOnFailure: true },
      })),
    });
    for (const c of tree.children ?? []) byId.set(c.job.id!, (c.job.data as PointJob).label);
    try {
      await tree.job.waitUntilFinished(events);
    } catch (e) {
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
    return results;
  } finally {
    await Promise.allSettled([events.close(), flow.close(), queue.close()]);
  }
}
