// Entry point of a worker process (see child-runner.ts): it runs the stages sent to it one
// after another, each with its own id, and stays up between them, so the modules and
// WebAssembly kernels it has loaded serve the next stage without another tsx start-up.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { executeStage, loadOutput } from './execute.ts';
import { loadSchemas } from '../params.ts';
import { LocalStore } from '../keep/store.ts';
import type { ChildJob } from './child-runner.ts';
import type { StageOutput } from '../types.ts';

// The parent is gone (Ctrl-C, a kill) or done with this worker: nothing will read a result, so stop.
process.on('disconnect', () => process.exit(0));

async function run(id: number, job: ChildJob): Promise<void> {
  try {
    const store = new LocalStore(job.cacheDir);
    const mod = await import(pathToFileURL(path.resolve(job.root, job.stageFile)).href);
    const def = mod.default;
    const inputs: Record<string, StageOutput> = {};
    for (const [u, e] of Object.entries(job.inputs)) inputs[u] = loadOutput(store, e, job.inputSchemas[u]);
    let last = 0;
    const entry = await executeStage({
      store,
      def,
      params: Object.freeze(job.params),
      record: job.record,
      key: job.key,
      codeFiles: job.codeFiles,
      inputs,
      externals: job.externals,
      env: job.env,
      overrides: job.overrides,
      outputSchema: loadSchemas(job.schemasDir, job.name).output,
      progress: (done, total, message) => {
        const now = performance.now();
        if (now - last < 50 && done < total) return;
        last = now;
        process.send!({ type: 'progress', id, done, total, message });
      },
      warn: (message) => process.send!({ type: 'warn', id, message }),
    });
    process.send!({ type: 'done', id, entry });
  } catch (e) {
    const err = e as Error & { reason?: string; stage?: string; key?: string; code?: string; hint?: string };
    // reason/stage/key/code/hint let the parent rebuild the same error (corrupt input, cache full…).
    const { reason, stage, key, code, hint } = err;
    process.send!({ type: 'error', id, message: err.message, stack: err.stack, reason, stage, key, code, hint });
  }
}

// Jobs arrive one at a time (the parent sends the next only after this one's answer); they
// are chained anyway, so that a stage's seconds never count another's work.
let tail: Promise<void> = Promise.resolve();
process.on('message', (m: any) => {
  if (m?.type === 'job') tail = tail.then(() => run(m.id, m.job));
});
process.send!({ type: 'ready' });
