import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { externalLabel, fingerprint, MissingFileError } from '../../lib/engine/decide/key.ts';

describe('external file fingerprints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-fp-'));
  const w = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));

  it('cover only the declared prefix, so enwik8 and enwik9 give the same key for their shared first N bytes', () => {
    const a = w('a', 'abcdefXXXX');
    const b = w('b', 'abcdefYYYYYYYY');
    const fp = (file: string, maxBytes: number) => fingerprint({ name: 'f', path: file, maxBytes, display: 'enwik' }, 's');
    expect(fp(a, 6)).toBe(fp(b, 6));
    expect(fp(a, 7)).not.toBe(fp(b, 7));
  });
  it('are the content alone, never the path nor the name: the same bytes in two folders under two names agree', () => {
    fs.mkdirSync(path.join(dir, 'one'));
    fs.mkdirSync(path.join(dir, 'two'));
    const a = w('one/weights.bin', 'same');
    const b = w('two/renamed.bin', 'same');
    expect(fingerprint({ name: 'f', path: a }, 's')).toBe(fingerprint({ name: 'f', path: b, display: 'paper:sat_model.bin' }, 's'));
    expect(fingerprint({ name: 'f', path: a }, 's')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fingerprint({ name: 'f', path: a }, 's')).not.toContain(dir);
    // the name is a label, for provenance
    expect(externalLabel({ name: 'f', path: b })).toBe('renamed.bin');
    expect(externalLabel({ name: 'f', path: b, display: 'paper:sat_model.bin' })).toBe('paper:sat_model.bin');
    // a hash pinned in code is the fingerprint of a file with those bytes, found or not
    const pinned = createHash('sha256').update('same').digest('hex');
    expect(fingerprint({ name: 'f', path: '', sha256: pinned }, 's')).toBe(fingerprint({ name: 'f', path: a }, 's'));
    // other bytes are another fingerprint
    w('two/renamed.bin', 'changed');
    expect(fingerprint({ name: 'f', path: a }, 's')).not.toBe(fingerprint({ name: 'f', path: b }, 's'));
  });
  it('with a memo (one build), a file is hashed once, and hashed again once it is replaced or rewritten', () => {
    const a = w('memo.bin', 'AAAA');
    const b = w('memo-other.bin', 'AAAA');
    const memo = new Map<string, string>();
    const fp = (file: string) => fingerprint({ name: 'f', path: file }, 's', memo);
    const first = fp(a);
    expect(fp(a)).toBe(first);
    expect(memo.size).toBe(1);
    // the memo is keyed by the file's identity, not by its bytes: another path is hashed on its own
    expect(fp(b)).toBe(first.replace('memo.bin', 'memo-other.bin'));
    expect(memo.size).toBe(2);
    // a file replaced by rename (another inode) with other bytes of the same size: a new fingerprint
    fs.writeFileSync(`${a}.new`, 'BBBB');
    fs.renameSync(`${a}.new`, a);
    expect(fp(a)).toBe(fingerprint({ name: 'f', path: a }, 's'));
    expect(fp(a)).not.toBe(first);
    // rewritten in place with another size: a new fingerprint
    fs.writeFileSync(a, 'CCCCC');
    expect(fp(a)).toBe(fingerprint({ name: 'f', path: a }, 's'));
  });
  it('a missing file is an error naming the stage, the path and the hint', () => {
    const missing = path.join(dir, 'nope.bin');
    expect(() => fingerprint({ name: 'weights', path: missing, hint: 'set model.source' }, 'model')).toThrow(MissingFileError);
    const err = (() => { try { fingerprint({ name: 'weights', path: missing, hint: 'set model.source' }, 'model'); } catch (e) { return e as MissingFileError; } })()!;
    expect([err.message, err.hint]).toEqual([`stage model: weights file not found: ${missing}`, 'set model.source']);
    expect(() => fingerprint({ name: 'weights', path: dir }, 'model')).toThrow(/weights is not a file/);
  });
});
