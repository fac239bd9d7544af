// The queue and remote-cache flags on bad input (toy project, no servers needed): one
// error line, one hint line, exit code 2; credentials never echoed.

import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeToy } from '../engine/toy.ts';
import { freePort } from '../helpers/servers.ts';

describe('queue / remote-cache flags on bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeToy();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const usage = (r: { code: number | null; stderr: string }) => {
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[1]).toMatch(/^hint: /);
  };

  it('worker without --queue', async () => usage(await cli(dir, ['worker'])));
  it('--queue without --seeds', async () => usage(await cli(dir, ['run', 'c', '--queue', 'redis://127.0.0.1:1'])));
  it('a bad --remote-cache URL', async () => usage(await cli(dir, ['run', 'c', '--remote-cache', 'ftp://u:pw123@x/'])));
  it('an unreachable queue names it without its password', async () => {
    const port = await freePort();
    const r = await cli(dir, ['worker', '--queue', `redis://:hunter22@127.0.0.1:${port}`, '--remote-cache', 'http://127.0.0.1:1/c']);
    usage(r);
    expect(r.stderr).toMatch(new RegExp(`cannot reach the queue at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    expect(r.stderr).not.toMatch(/hunter22/);
  });
  it('an unreachable remote cache: one warning, the build goes on', async () => {
    const port = await freePort();
    const r = await cli(dir, ['run', 'c', '--remote-cache', `http://me:pw-xyz@127.0.0.1:${port}/c`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/^warning: remote cache/gm)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/pw-xyz/);
    expect(r.stderr).toMatch(/3 ran, 0 cached/);
  });
});
