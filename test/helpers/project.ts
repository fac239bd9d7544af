// A copy of the project's sources in a temporary folder (node_modules shared by symlink),
// so end-to-end tests can build, edit stage files and write reports without touching the
// repository or its cache.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const reference = path.resolve(root, '../shared/reference');
export const REF_WEIGHTS = path.join(reference, 'sat_model.bin');
export const REF_DATA = path.join(reference, 'enwik_1024.txt');

export function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-project-'));
  for (const entry of ['package.json', 'pipeline.ts', 'stages', 'lib', 'schemas', 'asm', 'build']) {
    if (fs.existsSync(path.join(root, entry))) fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a project copy's CLI with the reference data as ENWIK9. */
export function pipelineCli(dir: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TOTAL_INTERP_CACHE'));
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], {
      cwd: dir,
      env: { ...base, ENWIK9: REF_DATA, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
