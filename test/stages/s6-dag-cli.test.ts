// docs/definitions.md §6.3 through the CLI (end to end: the CLI in a child process): the
// stage graph `dag --json` prints has describe as rebuild's only input.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/project.ts';

describe('rebuild is fed by describe only, as the CLI shows it', () => {
  it('dag --json shows describe as rebuild\'s only input', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'pipeline.ts', 'dag', '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const dag = JSON.parse(r.stdout);
    const stages: { name: string; inputs: string[] }[] = dag.stages ?? dag;
    expect(stages.find((s) => s.name === 'rebuild')!.inputs).toEqual(['describe']);
  });
});
