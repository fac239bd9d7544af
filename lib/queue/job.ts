// The sandboxed job processor (loaded through processor.mjs): builds one sweep point's
// targets with the Pipeline API, in the worker's project, local cache and remote cache,
// holding a Redis key lock around each stage build. Each stage line becomes a progress
// event of the job, which the submitter shows. The sweep's parent job (the aggregate)
// just collects its children's results.

import os from 'node:os';
import type { SandboxedJob } from 'bullmq';
import { Pipeline } from '../engine/pipeline.ts';
import { RemoteCache } from '../engine/remote.ts';
import { RedisKeyLock } from './keylock.ts';
import { withLock } from './tier.ts';
import type { PointEvent, PointJob, PointResult, WorkerConfig } from './types.ts';

let loaded: Promise<Pipeline> | null = null;

// BullMQ's child does not notice its worker dying. If the worker process is killed, stop
// too (at the next await), as on a machine failure: the stalled job goes to another worker,
// which finds whatever was pushed before this point.
if (process.send) process.once('disconnect', () => process.exit(1));

async function load(cfg: WorkerConfig): Promise<Pipeline> {
  const p = await Pipeline.load({ root: cfg.root, stageFiles: cfg.stageFiles, cacheDir: cfg.cacheDir, reportsDir: cfg.reportsDir });
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const locker = new RedisKeyLock(cfg.queue, { ttlMs: cfg.lockTtlMs, warn });
  const remote = cfg.remote ? new RemoteCache(cfg.remote, { auth: cfg.remoteAuth, warn }) : null;
  p.store.remote = withLock(remote, locker);
  return p;
}

export default async function processPoint(job: SandboxedJob<PointJob>): Promise<PointResult | { points: number }> {
  if (job.name === 'sweep') return { points: Object.keys(await job.getChildrenValues()).length };
  const cfg: WorkerConfig = JSON.parse(process.env.TOTAL_INTERP_WORKER ?? 'null');
  if (!cfg) throw new Error('worker: TOTAL_INTERP_WORKER is not set (start workers with `pipeline.ts worker`)');
  const p = await (loaded ??= load(cfg));
  const worker = `${os.hostname()} pid ${process.pid}`;
  const { label } = job.data;
  const send = (e: Omit<PointEvent, 'label' | 'worker'>) => void job.updateProgress({ label, worker, ...e }).catch(() => {});
  p.reporter = {
    line(text) {
      process.stderr.write(`[${label}] ${text.trim()}\n`);
      const t = text.trim();
      const m = /^(ran|cached)\s+(\S+)/.exec(t);
      const w = /^waiting for .* building (\S+?)…/.exec(t);
      if (m) send({ stage: m[2], status: m[1] as 'ran' | 'cached', detail: t });
      else if (w) send({ stage: w[1], status: 'waiting', detail: t });
    },
    stage(name) {
      send({ stage: name, status: 'start' });
      return Object.assign(() => {}, { done() {} });
    },
  };
  process.stderr.write(`[${label}] building ${job.data.targets.join(' ')} (attempt ${job.attemptsMade + 1})\n`);
  const { runs } = await p.build(job.data.targets, { overrides: job.data.overrides });
  return { label, worker, runs, attempt: job.attemptsMade + 1 };
}
