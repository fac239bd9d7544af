import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, MissingFileError } from '../../lib/engine/fingerprint.ts';

describe('external file fingerprints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-fp-'));
  const w = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));

  it('cover only the declared prefix, so enwik8 and enwik9 give the same key for their shared first N bytes', () => {
    const a = w('a', 'abcdefXXXX');
    const b = w('b', 'abcdefYYYYYYYY');
    expect(fingerprint({ name: 'f', path: a, maxBytes: 6 }, 's')).toBe(fingerprint({ name: 'f', path: b, maxBytes: 6 }, 's'));
    expect(fingerprint({ name: 'f', path: a, maxBytes: 7 }, 's')).not.toBe(fingerprint({ name: 'f', path: b, maxBytes: 7 }, 's'));
  });
  it('follow the content of a whole file, not its name', () => {
    const a = w('c', 'same');
    const b = w('d', 'same');
    expect(fingerprint({ name: 'f', path: a }, 's')).toBe(fingerprint({ name: 'f', path: b }, 's'));
    w('d', 'changed');
    expect(fingerprint({ name: 'f', path: a }, 's')).not.toBe(fingerprint({ name: 'f', path: b }, 's'));
  });
  it('a missing file is an error naming the stage, the path and the hint', () => {
    const missing = path.join(dir, 'nope.bin');
    expect(() => fingerprint({ name: 'weights', path: missing, hint: 'set model.source' }, 'model')).toThrow(MissingFileError);
    expect(() => fingerprint({ name: 'weights', path: missing, hint: 'set model.source' }, 'model')).toThrow(
      new RegExp(`stage model: weights file not found: ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\nhint: set model.source`),
    );
    expect(() => fingerprint({ name: 'weights', path: dir }, 'model')).toThrow(/weights is not a file/);
  });
});
