// Running one planned stage: in this process, in a worker of the build's pool, or in a
// child process of its own (placement.ts). Every path executes the same code (execute.ts)
// and stores exactly the same entry. A failure becomes an EngineError 'stage-failed'.

import { executeStage } from './execute.ts';
import { runInChild, type ChildWorker } from './child-runner.ts';
import { EngineError, splitHint } from '../errors.ts';
import type { Keyed } from '../decide/key.ts';
import type { Params, Project } from '../project.ts';
import type { Store } from '../keep/store.ts';
import type { Reporter } from './progress.ts';
import type { Entry } from '../keep/entry.ts';
import type { StageOutput } from '../types.ts';

/** `loaded`: the upstream outputs, already read and checked by the caller (build.ts). */
export async function runStage(
  at: { project: Project; store: Store; reporter: Reporter; debug?: boolean; checked?: (stage: string) => boolean },
  name: string,
  keyed: Keyed,
  params: Params,
  upstream: Record<string, Entry>,
  loaded: Record<string, StageOutput>,
  site: 'here' | 'child' | ChildWorker,
): Promise<Entry> {
  const { project, store, reporter } = at;
  const s = project.stage(name);
  const progress = reporter.stage(name);
  const warn = (m: string) => reporter.line(`warning: stage ${name}: ${m}`);
  const job = {
    params: params[name],
    record: keyed.record,
    key: keyed.key,
    codeFiles: keyed.codeFiles,
    externals: keyed.externals,
    env: project.envOf(name),
    overrides: keyed.overrides,
  };
  try {
    if (site !== 'here') {
      const run = {
        ...job,
        root: project.root,
        stageFile: s.file,
        schemasDir: project.schemasDir,
        cacheDir: store.root,
        name,
        inputs: upstream,
        inputSchemas: Object.fromEntries(Object.keys(upstream).map((u) => [u, at.checked?.(u) ? null : project.stage(u).schemas.output])),
        onProgress: progress,
        onWarn: warn,
      };
      return await (site === 'child' ? runInChild(run) : site.run(run));
    }
    return await executeStage({ ...job, store, def: s.def, inputs: loaded, outputSchema: s.schemas.output, progress, warn });
  } catch (e) {
    const err = e as Error & { reason?: string; hint?: string };
    // A full or read-only cache is not the stage's failure: its error names the cache.
    if (err.reason === 'cache-write') throw err;
    // A message is enough for a deliberate error; a TypeError or the like is a bug, so show
    // where it happened (debug prints every frame).
    const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
    const frames = (err.stack ?? '').split('\n').filter((l) => l.startsWith('    at '));
    const where = bug || at.debug ? `\n${frames.slice(0, at.debug ? undefined : 3).join('\n')}` : '';
    const { message, hint } = splitHint(err.message, err.hint);
    throw new EngineError('stage-failed', `stage ${name} failed: ${message}${where}`, hint);
  } finally {
    progress.done();
  }
}
