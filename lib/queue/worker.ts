// `pipeline.ts worker --queue redis://HOST:PORT [--remote-cache URL]`: a BullMQ worker.
// Each job (one sweep point) runs in a sandboxed child process (processor.mjs -> job.ts),
// `concurrency` of them at once (default: the cores). BullMQ renews a job's lock from this
// parent process, which stays idle while a child trains, so a long stage never makes its
// job look stalled; a worker that dies stops renewing, and after lockDuration another
// worker's stalled-job check takes the job over. The caches make the retry cheap: what
// the dead worker built and pushed is pulled, not rebuilt.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ParentCommand, Worker } from 'bullmq';
import { redactText } from '../engine/keep/remote.ts';
import { QUEUE_NAME, type PointResult, type WorkerConfig } from './types.ts';

export interface WorkerOptions extends WorkerConfig {
  concurrency?: number;
  /** BullMQ job lock (ms): a dead worker's job is taken over after about this long. */
  lockDurationMs?: number;
  log?: (line: string) => void;
}

export const processorFile = fileURLToPath(new URL('./processor.mjs', import.meta.url));

export async function startWorker(o: WorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const concurrency = o.concurrency ?? os.availableParallelism();
  const lockDuration = o.lockDurationMs ?? 30_000;
  const cfg: WorkerConfig = {
    root: o.root,
    stageFiles: o.stageFiles,
    cacheDir: o.cacheDir,
    reportsDir: o.reportsDir,
    remote: o.remote,
    remoteSettings: o.remoteSettings,
    queue: o.queue,
    lockTtlMs: o.lockTtlMs,
  };
  const worker = new Worker(QUEUE_NAME, processorFile, {
    connection: { url: o.queue, maxRetriesPerRequest: null },
    concurrency,
    useWorkerThreads: false,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: 2,
    // The sandboxed children get the config through their environment (credentials
    // included: they never go into the queue, the caches or a log).
    // Jobs that run side by side train on one thread each, as a sweep's points do (lib/cli/sweep.ts sideBySideEnv).
    workerForkOptions: { env: { ...(concurrency > 1 && !process.env.TOTAL_INTERP_TRAIN_THREADS ? { TOTAL_INTERP_TRAIN_THREADS: '1' } : {}), ...process.env, TOTAL_INTERP_WORKER: JSON.stringify(cfg) } },
  });
  guardChildPool(worker);
  worker.on('active', (job) => log(`worker: ${job.data?.label ?? job.name} started (job ${job.id}, attempt ${job.attemptsMade + 1})`));
  worker.on('completed', (job) => {
    const r = job.returnvalue as PointResult | undefined;
    const ran = r?.runs ? r.runs.filter((x) => x.status === 'ran').length : 0;
    log(`worker: ${job.data?.label ?? job.name} done${r?.runs ? ` (${ran} ran, ${r.runs.length - ran} cached)` : ''}`);
  });
  worker.on('failed', (job, err) => log(`worker: ${job?.data?.label ?? job?.name ?? 'job'} failed: ${redactText(err.message.split('\n')[0])}`));
  worker.on('error', (err) => log(`worker: ${redactText(err.message)}`));
  await worker.waitUntilReady();
  log(`worker: waiting for jobs on ${redactText(o.queue)} (concurrency ${concurrency}${o.remote ? `, remote cache ${redactText(o.remote)}` : ', no remote cache'})`);
  return { worker, close: () => worker.close() };
}

/**
 * BullMQ hands a job's sandboxed process back to its pool as soon as the job's promise
 * settles, which also happens while that process is still building: when the parent lost
 * the job (a progress update failed because Redis restarted empty). The pool then gave
 * that busy process the next job, which it refused ("cannot start a not idling child
 * process"), failing every attempt of every later point. Here a process goes back to the
 * pool only once it has said it finished (completed or failed); otherwise it is killed
 * (its key locks expire; the pool forks a fresh one for the next job).
 */
function guardChildPool(worker: Worker): void {
  type Child = { on(ev: 'message', f: (m: { cmd?: number }) => void): void };
  const pool = (worker as unknown as { childPool?: { retain(f: string): Promise<Child>; release(c: Child): void; kill(c: Child, s?: string): Promise<void> } }).childPool;
  if (!pool) return;
  const idle = new WeakMap<Child, boolean>();
  const retain = pool.retain.bind(pool);
  const release = pool.release.bind(pool);
  const done = new Set<number>([ParentCommand.Completed, ParentCommand.Failed, ParentCommand.Error]);
  pool.retain = async (file: string) => {
    const c = await retain(file);
    if (!idle.has(c)) c.on('message', (m) => done.has(m?.cmd as number) && idle.set(c, true));
    idle.set(c, false);
    return c;
  };
  pool.release = (c: Child) => {
    if (idle.get(c) === false) void pool.kill(c, 'SIGKILL').catch(() => {});
    else release(c);
  };
}

