// --jobs N: a stage runs in a child Node process (tsx loader), so independent stages use
// both cores. The child loads its inputs from the store, runs the stage, writes the
// outputs and the entry itself (same code as in-process: execute.ts), and sends back the
// entry. Progress and warnings come back over IPC.

import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CorruptError, type Entry } from '../keep/entry.ts';
import type { ExecuteArgs } from './execute.ts';
import { CacheWriteError } from '../errors.ts';
import type { Progress } from '../types.ts';

/** What the child needs: execute.ts's arguments that travel as data, and where to find the rest (stage, schemas, store, inputs). */
export interface ChildJob extends Pick<ExecuteArgs, 'params' | 'record' | 'key' | 'codeFiles' | 'externals' | 'env' | 'overrides'> {
  root: string;
  stageFile: string;
  schemasDir: string;
  cacheDir: string;
  name: string;
  inputs: Record<string, Entry>;
  inputSchemas: Record<string, unknown>;
}

/** The child's error as the same class the engine would have thrown in-process. */
function childError(m: { message: string; stack?: string; reason?: string; stage?: string; key?: string; code?: string; hint?: string }): Error {
  let e: Error;
  if (m.reason === 'corrupt') e = new CorruptError(m.message, m.stage && m.key ? { stage: m.stage, key: m.key } : undefined);
  else if (m.reason === 'cache-write') e = new CacheWriteError(m.message, m.code ?? 'EIO', m.hint);
  else e = m.hint !== undefined ? Object.assign(new Error(m.message), { hint: m.hint }) : new Error(m.message);
  return Object.assign(e, { stack: m.stack });
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const childMain = fileURLToPath(new URL('./child.ts', import.meta.url));

// Children still running when this process exits (Ctrl-C) are stopped with it: a child
// busy in a stage's run() would notice its parent gone only when the run returned.
const live = new Set<ChildProcess>();
process.on('exit', () => live.forEach((c) => c.kill()));

export function runInChild(job: ChildJob & { onProgress: Progress; onWarn: (m: string) => void }): Promise<Entry> {
  const { onProgress, onWarn, ...payload } = job;
  return new Promise((resolve, reject) => {
    const child = fork(childMain, [], { execArgv: ['--import', tsxLoader], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    let settled = false;
    child.on('message', (m: any) => {
      if (m.type === 'progress') onProgress(m.done, m.total, m.message);
      else if (m.type === 'warn') onWarn(m.message);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.entry);
      } else if (m.type === 'error') {
        settled = true;
        reject(childError(m));
      }
    });
    // 'close', not 'exit': 'exit' can come before the child's last message has been read from
    // the IPC pipe (the parent busy running another stage when both arrive), and a build that
    // had finished was reported as a failure; 'close' waits for the pipe to drain.
    child.on('close', (code, signal) => {
      live.delete(child);
      if (!settled) reject(new Error(`worker process for stage ${job.name} exited (${signal ?? `code ${code}`}) before finishing`));
    });
    child.send({ type: 'job', job: payload });
  });
}
