// The no-op memo folder stays small: after writing its memo a run keeps the MEMOS_KEPT newest.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEMOS_KEPT, prune } from '../../lib/cli/noop.ts';

describe('the no-op memo folder', () => {
  it('keeps the newest memos and the one just written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noop-prune-'));
    const n = MEMOS_KEPT + 5;
    for (let i = 0; i < n; i++) {
      const f = path.join(dir, `m${i}.json`);
      fs.writeFileSync(f, '{}');
      fs.utimesSync(f, 1000 + i, 1000 + i); // m0 oldest
    }
    const mine = path.join(dir, 'm0.json'); // the one this run wrote, whatever its mtime
    prune(dir, mine);
    const left = fs.readdirSync(dir).sort();
    expect(left).toHaveLength(MEMOS_KEPT);
    expect(left).toContain('m0.json');
    expect(left).toContain(`m${n - 1}.json`);
    expect(left).not.toContain('m1.json');
  });
});
