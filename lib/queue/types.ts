// What travels through the queue. Job data holds no paths and no credentials: a point is
// its stage overrides and targets, and each worker uses its own project, caches and remote.

import type { Overrides, StageRun } from '../engine/pipeline.ts';

/** The queue every worker and submitter uses (one per Redis database). */
export const QUEUE_NAME = 'total-interp-sweep';

/** One sweep point: a build of `targets` with these overrides. */
export interface PointJob {
  label: string;
  overrides: Overrides;
  targets: string[];
}

export interface PointResult {
  label: string;
  /** host and pid of the worker that finished it. */
  worker: string;
  runs: StageRun[];
  /** The attempt that succeeded (1 = first). */
  attempt: number;
}

/** A progress event of a point, as the worker reports it (job.updateProgress). */
export interface PointEvent {
  label: string;
  worker: string;
  stage?: string;
  status: 'start' | 'ran' | 'cached' | 'waiting' | 'active' | 'done' | 'failed' | 'stalled' | 'retry';
  detail?: string;
}

/** How the worker parent configures its sandboxed processors (env TOTAL_INTERP_WORKER, JSON). */
export interface WorkerConfig {
  root: string;
  stageFiles: string[];
  cacheDir: string;
  reportsDir: string;
  remote?: string;
  remoteAuth?: string;
  queue: string;
  lockTtlMs: number;
}

/** A queue problem with a reason the CLI understands ('usage' exits 2). */
export class QueueError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}
