// gc on a terminal asks before deleting: "no" deletes nothing, "yes" deletes what it listed.
// (main in-process on the toy project, with the question answered by the test.)

import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { makeToy, TOY_STAGES } from '../engine/toy.ts';

function sink() {
  let text = '';
  const w = new Writable({ write(chunk, _enc, cb) { text += chunk; cb(); } });
  return { w, text: () => text };
}

const entryCount = (dir: string) => fs.readdirSync(path.join(dir, 'cache/entries'), { recursive: true }).filter((f) => String(f).endsWith('.json')).length;

describe('gc asks before deleting', () => {
  it('answers no: nothing deleted; yes: the listed entries go', async () => {
    const dir = makeToy();
    const run = async (argv: string[], answer?: boolean) => {
      const out = sink();
      const err = sink();
      const asked: string[] = [];
      const confirm = answer === undefined ? null : async (q: string) => (asked.push(q), answer);
      const code = await main({ root: dir, stageFiles: TOY_STAGES, argv, env: {}, out: out.w, err: err.w, confirm });
      return { code, out: out.text(), err: err.text(), asked };
    };
    expect((await run(['run', 'd', '--quiet'])).code).toBe(0);
    expect((await run(['run', 'd', '--quiet', '--set', 'a.n=9'])).code).toBe(0); // not kept by the defaults
    expect(entryCount(dir)).toBe(4);
    // By default what was written in the last 10 minutes stays: nothing to ask about.
    const recent = await run(['gc'], true);
    expect(recent.asked).toEqual([]);
    expect(recent.out).toMatch(/would free 0 B /);
    expect(entryCount(dir)).toBe(4);
    const no = await run(['gc', '--keep-recent', '0'], false);
    expect(no.code).toBe(0);
    expect(no.asked).toEqual([expect.stringMatching(/^delete 2 entries and \d+ objects \(.* [kM]?B\)\? \[y\/N\] $/)]);
    expect(no.err).toMatch(/nothing deleted/);
    expect(entryCount(dir)).toBe(4);
    const yes = await run(['gc', '--keep-recent', '0'], true);
    expect(yes.code).toBe(0);
    expect(yes.out).toMatch(/^freed \d+(\.\d+)? (B|kB|MB) \(2 entries/);
    expect(entryCount(dir)).toBe(2);
    const none = await run(['gc', '--keep-recent', '0']); // nothing left to delete: no question, no --yes needed
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/would free 0 B /);
  });
});
