import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataError } from '../../lib/data/errors.ts';
import { preview, readPrefix } from '../../lib/data/source.ts';
import { localSource, looksLikeZip } from '../../lib/data/inputs.ts';
import { EMBEDDED_PATH } from '../../lib/data/inputs.ts';
import { makeZip, pseudoText } from './fixtures.ts';

const REF = EMBEDDED_PATH; // the first 1024 bytes of enwik9, shipped in data/
const ref = new Uint8Array(readFileSync(REF));
const dir = mkdtempSync(path.join(tmpdir(), 'data-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function dataError(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => null, (err) => err);
  expect(e).toBeInstanceOf(DataError);
  return e as DataError;
}

describe('readPrefix on a plain file', () => {
  it('reads the first N bytes of the reference prefix (N = 1024 and N = 100)', async () => {
    const all = await readPrefix(REF, 1024);
    expect(all).toMatchObject({ source: 'file', name: 'enwik9-head-1024.txt', entry: null, transferred: 1024 });
    expect(Buffer.from(all.bytes).equals(Buffer.from(ref))).toBe(true);
    const some = await readPrefix(REF, 100);
    expect(some.bytes.length).toBe(100);
    expect(Buffer.from(some.bytes).equals(Buffer.from(ref.subarray(0, 100)))).toBe(true);
  });

  it('says a file shorter than N is short, with both sizes and a hint', async () => {
    const e = await dataError(readPrefix(REF, 2000));
    expect(e.reason).toBe('short');
    expect(e.message).toContain(`${REF} has 1024 bytes, fewer than the 2000 requested`);
    expect(e.message.split('\n').at(-1)).toMatch(/^hint: .*data\.bytes/);
  });

  it('says a file that does not exist (or vanished) is missing, naming it and how to set the source', async () => {
    const gone = path.join(dir, 'vanished.txt');
    const e = await dataError(readPrefix(gone, 10));
    expect(e.reason).toBe('missing');
    expect(e.message).toContain(gone);
    expect(e.message).toMatch(/hint: .*data\.path.*ENWIK9/);
  });
});

describe('readPrefix on a zip', () => {
  const text = pseudoText(2_000_000, 5);
  const zip = makeZip([{ name: 'enwik9', data: text }]);
  const zipPath = path.join(dir, 'enwik9.zip');
  const misnamed = path.join(dir, 'enwik9.bin');
  writeFileSync(zipPath, zip);
  writeFileSync(misnamed, zip);

  it('inflates only as much of the first entry as N needs', async () => {
    const got = await readPrefix(zipPath, 1000);
    expect(got).toMatchObject({ source: 'zip', name: 'enwik9.zip', entry: 'enwik9' });
    expect(Buffer.from(got.bytes).equals(Buffer.from(text.subarray(0, 1000)))).toBe(true);
    expect(got.transferred).toBeLessThanOrEqual(64 * 1024); // one read-stream chunk
    expect(got.transferred).toBeLessThan(zip.length);
  });

  it('recognises a zip by its magic bytes when it is not named .zip', async () => {
    expect(looksLikeZip(misnamed)).toBe(true);
    expect(looksLikeZip(REF)).toBe(false);
    expect(looksLikeZip(path.join(dir, 'nothing-here'))).toBe(false);
    const got = await readPrefix(misnamed, 5000);
    expect(got.source).toBe('zip');
    expect(Buffer.from(got.bytes).equals(Buffer.from(text.subarray(0, 5000)))).toBe(true);
  });

  it('calls a .zip that is not a zip corrupt, and a zip entry shorter than N short', async () => {
    const fake = path.join(dir, 'fake.zip');
    writeFileSync(fake, 'not a zip at all');
    expect((await dataError(readPrefix(fake, 4))).reason).toBe('corrupt');
    const e = await dataError(readPrefix(zipPath, 2_000_001));
    expect(e.reason).toBe('short');
    expect(e.message).toContain('has 2000000 bytes, fewer than the 2000001 requested');
  });
});

describe('localSource and preview', () => {
  it('prefers data.path over ENWIK9, and resolves both to absolute paths', () => {
    expect(localSource('a.txt', { ENWIK9: 'b.txt' })).toBe(path.resolve('a.txt'));
    expect(localSource(null, { ENWIK9: 'b.txt' })).toBe(path.resolve('b.txt'));
    expect(localSource(null, {})).toBeNull();
  });

  it('shows printable ASCII and dots for the rest, at most 60 characters', () => {
    expect(preview(new TextEncoder().encode('<a>\n\tb\u00e9'))).toBe('<a>..b..');
    expect(preview(ref)).toHaveLength(60);
    expect(preview(ref)).toBe(new TextDecoder().decode(ref.subarray(0, 60)));
  });
});
