// The paper's weights by name: where they are looked for, how they are fetched, and what is
// refused. Every server here listens on 127.0.0.1 (TOTAL_INTERP_PAPER_WEIGHTS_URL); the
// real URL is never contacted.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PAPER_WEIGHTS_URL } from '../../lib/data/inputs.ts';
import {
  PaperWeightsError,
  downloadsDir,
  fetchPaperWeights,
  findPaperWeights,
} from '../../lib/data/paper-weights.ts';
import { PAPER_WEIGHTS } from '../helpers/reference.ts';
import { deadUrl, pseudoBytes, serve } from './fixtures.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paper-weights-'));

async function refused(p: Promise<unknown>, reason: PaperWeightsError['reason']): Promise<string> {
  const e = await p.then(() => null, (err) => err);
  expect(e).toBeInstanceOf(PaperWeightsError);
  expect((e as PaperWeightsError).reason).toBe(reason);
  const lines = (e as Error).message.split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^hint: /);
  return (e as Error).message;
}

describe('the paper weights', () => {
  it('are pinned to the authors\' repository at commit 74ddb51, over HTTPS', () => {
    expect(PAPER_WEIGHTS_URL).toMatch(/^https:\/\/raw\.githubusercontent\.com\/inimino\/hutter\/74ddb51[0-9a-f]{33}\/sat_model\.bin$/);
  });

  it('are kept in $TOTAL_INTERP_DOWNLOADS, else $XDG_CACHE_HOME/total-interp, else ~/.cache/total-interp', () => {
    expect(downloadsDir({ TOTAL_INTERP_DOWNLOADS: '/d', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(path.resolve('/d'));
    expect(downloadsDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(path.resolve('/x/total-interp'));
    expect(downloadsDir({ HOME: '/h' })).toBe(path.join('/h', '.cache', 'total-interp'));
  });

  it('are not found in an empty or damaged download folder (null: no network is tried)', () => {
    const dir = tmp();
    expect(findPaperWeights({ TOTAL_INTERP_DOWNLOADS: dir })).toBeNull();
    writeFileSync(path.join(dir, 'sat_model.bin'), pseudoBytes(329216));
    expect(findPaperWeights({ TOTAL_INTERP_DOWNLOADS: dir })).toBeNull();
  });

  it('named by TOTAL_INTERP_PAPER_WEIGHTS must exist and have the pinned sha256', async () => {
    const dir = tmp();
    const wrong = path.join(dir, 'wrong.bin');
    writeFileSync(wrong, pseudoBytes(329216));
    expect(() => findPaperWeights({ TOTAL_INTERP_PAPER_WEIGHTS: wrong })).toThrow(PaperWeightsError);
    const msg = await refused(fetchPaperWeights({ TOTAL_INTERP_PAPER_WEIGHTS: wrong, TOTAL_INTERP_DOWNLOADS: dir }), 'mismatch');
    expect(msg).toMatch(/^TOTAL_INTERP_PAPER_WEIGHTS=.*wrong\.bin: sha256 [0-9a-f]{64}, not that of the paper's sat_model\.bin \(239036a0/);
    await refused(fetchPaperWeights({ TOTAL_INTERP_PAPER_WEIGHTS: path.join(dir, 'absent.bin'), TOTAL_INTERP_DOWNLOADS: dir }), 'missing');
    expect(readdirSync(dir)).toEqual(['wrong.bin']);
  });

  it('offline: one error naming the URL, one hint with the curl command and the env var; nothing kept', async () => {
    const dir = tmp();
    const url = await deadUrl();
    const msg = await refused(fetchPaperWeights({ TOTAL_INTERP_DOWNLOADS: dir, TOTAL_INTERP_PAPER_WEIGHTS_URL: url }, { idleMs: 5000 }), 'network');
    expect(msg.split('\n')[0]).toContain(`could not download the paper's weights from ${url}`);
    expect(msg.split('\n')[1]).toBe(`hint: fetch it by hand: curl -fL -o ${path.join(dir, 'sat_model.bin')} ${url}, or set TOTAL_INTERP_PAPER_WEIGHTS=FILE to a copy you have`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an HTTP error is a network failure too', async () => {
    const dir = tmp();
    const server = await serve(new Uint8Array(0), { mode: 'status', status: 404 });
    try {
      const msg = await refused(fetchPaperWeights({ TOTAL_INTERP_DOWNLOADS: dir, TOTAL_INTERP_PAPER_WEIGHTS_URL: server.url }), 'network');
      expect(msg).toMatch(/HTTP 404/);
    } finally {
      await server.close();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a download with the wrong sha256 is refused and nothing is kept', async () => {
    const dir = path.join(tmp(), 'not-yet-made');
    const server = await serve(pseudoBytes(329216, 3), { mode: 'paced', first: 100_000, pauseMs: 0 });
    try {
      const msg = await refused(fetchPaperWeights({ TOTAL_INTERP_DOWNLOADS: dir, TOTAL_INTERP_PAPER_WEIGHTS_URL: server.url }), 'mismatch');
      expect(msg).toMatch(/\(329216 bytes\) has sha256 [0-9a-f]{64}, not the paper's .*; it was not kept/);
    } finally {
      await server.close();
    }
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it.skipIf(!PAPER_WEIGHTS)('are downloaded once into the download folder, then found there without the network', async () => {
    const dir = tmp();
    const bytes = readFileSync(PAPER_WEIGHTS);
    const server = await serve(bytes, { mode: 'paced', first: 100_000, pauseMs: 0 });
    const env = { TOTAL_INTERP_DOWNLOADS: dir, TOTAL_INTERP_PAPER_WEIGHTS_URL: server.url };
    let got;
    try {
      got = await fetchPaperWeights(env);
    } finally {
      await server.close();
    }
    expect(got.downloaded).toBe(true);
    expect(got.file).toBe(path.join(dir, 'sat_model.bin'));
    expect(readdirSync(dir)).toEqual(['sat_model.bin']);
    expect(readFileSync(got.file).equals(bytes)).toBe(true);
    expect(findPaperWeights(env)).toBe(got.file);
    const again = await fetchPaperWeights(env); // the server is gone: no network
    expect([again.downloaded, again.file]).toEqual([false, got.file]);
  });

  it.skipIf(!PAPER_WEIGHTS)('named by TOTAL_INTERP_PAPER_WEIGHTS are used in place, before the download folder', () => {
    const copy = path.join(tmp(), 'my-copy.bin');
    copyFileSync(PAPER_WEIGHTS, copy);
    expect(findPaperWeights({ TOTAL_INTERP_PAPER_WEIGHTS: copy, TOTAL_INTERP_DOWNLOADS: tmp() })).toBe(copy);
  });
});
