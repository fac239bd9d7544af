// `worker` processes of a project copy for the distributed tests: each a machine of its
// own (its own local cache, its own process group, so a SIGKILL takes its sandboxed
// children too), serving one Redis queue and pushing to one remote cache.

import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface WorkerProc {
  name: string;
  proc: ChildProcess;
  cache: string;
  /** Its stdout and stderr so far. */
  log: () => string;
}

export interface WorkerOptions {
  /** The project copy (test/helpers/project.ts) whose pipeline.ts it runs. */
  dir: string;
  name: string;
  /** Its local cache. */
  cache: string;
  queue: string;
  remote: string;
  /** Added to the environment, after the test's own TOTAL_INTERP_* and ENWIK9 are removed. */
  env?: Record<string, string>;
}

/** Start `worker --queue … --remote-cache …` (concurrency 1, 2 s locks) and wait until it waits for jobs. */
export async function startWorker(o: WorkerOptions): Promise<WorkerProc> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TOTAL_INTERP_') && k !== 'ENWIK9'));
  const proc = spawn(process.execPath, ['--import', tsxLoader, path.join(o.dir, 'pipeline.ts'), 'worker', '--queue', o.queue, '--remote-cache', o.remote], {
    cwd: o.dir,
    detached: true, // its own process group: a SIGKILL takes its sandboxed children too, as a machine failure would
    env: { ...base, ...o.env, TOTAL_INTERP_CACHE: o.cache, TOTAL_INTERP_QUEUE_LOCK_MS: '2000', TOTAL_INTERP_WORKER_CONCURRENCY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const w = { name: o.name, proc, cache: o.cache, log: () => out };
  const t0 = Date.now();
  while (!/waiting for jobs/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`worker ${o.name} exited:\n${out}`);
    if (Date.now() - t0 > 20_000) {
      await stopWorkers([w]);
      throw new Error(`worker ${o.name} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return w;
}

/** SIGTERM each live worker (it finishes the jobs in hand), then SIGKILL its process group after 5 s. */
export async function stopWorkers(workers: readonly WorkerProc[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
      const exited = new Promise((r) => w.proc.once('exit', r));
      w.proc.kill('SIGTERM');
      const t = setTimeout(() => {
        try {
          process.kill(-w.proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }),
  );
}
