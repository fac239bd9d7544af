// What travels through the queue. Job data holds no paths, no URLs and no credentials: a
// point is its stage overrides (values only: guard.ts refuses file and URL params at submit
// and again at the worker), its targets, the sha256 of the data it expects, and its
// submitter's id; each worker uses its own project, data sources, caches and remote.

import type { Overrides, StageRun } from '../engine/pipeline.ts';
import { ReasonedError } from '../engine/errors.ts';

/** The queue every worker and submitter uses (one per Redis database). */
export const QUEUE_NAME = 'total-interp-sweep';

/** One sweep point: a build of `targets` with these overrides. */
export interface PointJob {
  label: string;
  overrides: Overrides;
  targets: string[];
  /** The training bytes the point expects, by sha256 (set by submitSweep; the worker checks what it read). */
  data?: { sha256: string };
  /** The submitter's id (set by submitSweep): its heartbeat key must exist when the point is built. */
  submitter?: string;
}

/** The Redis key a live submitter keeps renewed (with a TTL) while its sweep runs. */
export const submitterKey = (id: string) => `total-interp:submitter:${id}`;

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

/** A remote cache's settings besides its URL: credentials, the entry key (HMAC), the download cap. */
export interface RemoteSettings {
  auth?: string;
  key?: string;
  maxBytes?: number;
}

/** How the worker parent configures its sandboxed processors (env TOTAL_INTERP_WORKER, JSON). */
export interface WorkerConfig {
  root: string;
  stageFiles: string[];
  cacheDir: string;
  reportsDir: string;
  remote?: string;
  /** The remote cache's settings, read from the environment by the CLI (remoteSettings in cli.ts). */
  remoteSettings?: RemoteSettings;
  queue: string;
  lockTtlMs: number;
}

/** A queue problem with a reason the CLI understands ('usage' exits 2). */
export class QueueError extends ReasonedError {}
