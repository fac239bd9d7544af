// Ctrl-C at a chosen moment: runs the CLI of a project copy in a child process, polls a
// readiness check every 50 ms, and sends SIGINT to that process alone (not its group, as a
// terminal would) once the check holds.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Interrupted {
  code: number | null;
  stderr: string;
  /** When SIGINT was sent (Date.now()), 0 if the check never held. */
  sentAt: number;
  /** The CLI process's pid. */
  pid: number;
}

/** `npx tsx pipeline.ts ARGS` in dir (without TOTAL_INTERP_CACHE), interrupted once ready() holds. */
export function interruptWhen(dir: string, args: string[], ready: () => boolean): Promise<Interrupted> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TOTAL_INTERP_CACHE'));
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], { cwd: dir, env });
    let stderr = '';
    let sentAt = 0;
    const poll = setInterval(() => {
      if (!sentAt && ready()) {
        sentAt = Date.now();
        child.kill('SIGINT');
      }
    }, 50);
    child.stderr.on('data', (x) => (stderr += x));
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stderr, sentAt, pid: child.pid! });
    });
  });
}
