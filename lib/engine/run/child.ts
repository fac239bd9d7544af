// Entry point of a --jobs worker process (see child-runner.ts).

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { executeStage, loadOutput } from './execute.ts';
import { loadSchemas } from '../params.ts';
import { LocalStore } from '../keep/store.ts';
import type { ChildJob } from './child-runner.ts';
import type { StageOutput } from '../types.ts';

// The parent is gone (Ctrl-C, a kill): nothing will read this stage's result, so stop.
process.on('disconnect', () => process.exit(1));

process.on('message', async (m: any) => {
  if (m?.type !== 'job') return;
  const job: ChildJob = m.job;
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
        process.send!({ type: 'progress', done, total, message });
      },
      warn: (message) => process.send!({ type: 'warn', message }),
    });
    process.send!({ type: 'done', entry }, () => process.exit(0));
  } catch (e) {
    const err = e as Error & { reason?: string; stage?: string; key?: string; code?: string; hint?: string };
    // reason/stage/key/code/hint let the parent rebuild the same error (corrupt input, cache full…).
    const { reason, stage, key, code, hint } = err;
    process.send!({ type: 'error', message: err.message, stack: err.stack, reason, stage, key, code, hint }, () => process.exit(1));
  }
});
