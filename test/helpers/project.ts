// A copy of the project's sources in a temporary folder (node_modules shared by symlink),
// so end-to-end tests can build, edit stage files and write reports without touching the
// repository or its cache. The copy reads the data shipped in data/ (no ENWIK9).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The project's files, copied into a new temporary folder (or into `dir`, which must not exist yet). */
export function copyProject(dir?: string): string {
  if (dir) fs.mkdirSync(dir, { recursive: false });
  else dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-project-'));
  for (const entry of ['package.json', 'pipeline.ts', 'stages', 'lib', 'schemas', 'data', 'asm', 'build']) {
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

/**
 * Run a project copy's CLI: its own cache and data, and no paper's weights (so a default
 * `report` does not add the paper's-weights build), unless `env` says otherwise.
 */
export function pipelineCli(dir: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const own = new Set(['TOTAL_INTERP_CACHE', 'ENWIK9', 'TOTAL_INTERP_PAPER_WEIGHTS', 'TOTAL_INTERP_DOWNLOADS']);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !own.has(k)));
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(dir, 'pipeline.ts'), ...args], {
      cwd: dir,
      env: { ...base, TOTAL_INTERP_DOWNLOADS: path.join(dir, 'downloads'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
