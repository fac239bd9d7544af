// The paper's own weights by name (`--set model.source=paper`): sat_model.bin as the
// authors released it, pinned by commit and by sha256. The authors' repository carries no
// licence, so the file is not shipped: it is fetched once over HTTPS into a download
// folder outside the cache (gc never touches it), or named by TOTAL_INTERP_PAPER_WEIGHTS.
// Either way it is refused unless its sha256 is the pinned one, so its content, not its
// location, is what the cache key stands for.

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PAPER_WEIGHTS_SHA256 } from './known.ts';
import { PAPER_WEIGHTS_FILE, PAPER_WEIGHTS_URL } from './inputs.ts';
import { openStream } from './stream.ts';

export { PAPER_WEIGHTS_SHA256 };

export type Env = Record<string, string | undefined>;

/** A refused or unavailable paper-weights file. The message ends with a `hint:` line. */
export class PaperWeightsError extends Error {
  readonly reason: 'missing' | 'mismatch' | 'network';
  constructor(reason: 'missing' | 'mismatch' | 'network', what: string, hint: string) {
    super(`${what}\nhint: ${hint}`);
    this.name = 'PaperWeightsError';
    this.reason = reason;
  }
}

/** The download folder: $TOTAL_INTERP_DOWNLOADS, else $XDG_CACHE_HOME/total-interp, else ~/.cache/total-interp. */
export function downloadsDir(env: Env): string {
  if (env.TOTAL_INTERP_DOWNLOADS) return path.resolve(env.TOTAL_INTERP_DOWNLOADS);
  if (env.XDG_CACHE_HOME) return path.resolve(env.XDG_CACHE_HOME, 'total-interp');
  return path.join(env.HOME || os.homedir(), '.cache', 'total-interp');
}

export function paperWeightsUrl(env: Env): string {
  return env.TOTAL_INTERP_PAPER_WEIGHTS_URL || PAPER_WEIGHTS_URL;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fetchHint(env: Env): string {
  const dest = path.join(downloadsDir(env), PAPER_WEIGHTS_FILE);
  return `fetch it by hand: curl -fL -o ${dest} ${paperWeightsUrl(env)}, or set TOTAL_INTERP_PAPER_WEIGHTS=FILE to a copy you have`;
}

/** Reads `file` if its sha256 is the pinned one; throws PaperWeightsError otherwise. */
function readVerified(file: string, label: string, hint: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new PaperWeightsError('missing', `${label}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, hint);
  }
  const got = sha256(bytes);
  if (got !== PAPER_WEIGHTS_SHA256) {
    throw new PaperWeightsError('mismatch', `${label}: sha256 ${got}, not that of the paper's ${PAPER_WEIGHTS_FILE} (${PAPER_WEIGHTS_SHA256}); refused`, hint);
  }
  return bytes;
}

/**
 * The paper's weights as a local file, without the network: TOTAL_INTERP_PAPER_WEIGHTS if
 * set (a missing or wrong file there is an error, not a fallback), else the download folder's
 * copy if it is intact; null when neither has them. Every file is hash-checked.
 */
export function findPaperWeights(env: Env): string | null {
  const named = env.TOTAL_INTERP_PAPER_WEIGHTS;
  if (named) {
    const file = path.resolve(named);
    readVerified(
      file,
      `TOTAL_INTERP_PAPER_WEIGHTS=${named}`,
      `point TOTAL_INTERP_PAPER_WEIGHTS at the authors' ${PAPER_WEIGHTS_FILE} (${paperWeightsUrl(env)}), or unset it to download that into ${downloadsDir(env)}`,
    );
    return file;
  }
  const file = path.join(downloadsDir(env), PAPER_WEIGHTS_FILE);
  try {
    if (sha256(new Uint8Array(fs.readFileSync(file))) === PAPER_WEIGHTS_SHA256) return file;
  } catch {
    /* not downloaded */
  }
  return null;
}

export interface FetchOptions {
  /** Called with (bytes received, total bytes or 0 when unknown). */
  onProgress?: (received: number, total: number) => void;
  /** Give up when no response or no data arrives for this long (ms). */
  idleMs?: number;
}

/**
 * The paper's weights as a local file: findPaperWeights, else a download into the download
 * folder (to a temporary file there, hash-checked, then renamed, so a wrong or partial file
 * is never kept). Returns the file and its verified bytes.
 */
export async function fetchPaperWeights(env: Env, opts: FetchOptions = {}): Promise<{ file: string; bytes: Uint8Array; downloaded: boolean }> {
  const found = findPaperWeights(env);
  if (found) return { file: found, bytes: new Uint8Array(fs.readFileSync(found)), downloaded: false };
  const url = paperWeightsUrl(env);
  const dir = downloadsDir(env);
  const dest = path.join(dir, PAPER_WEIGHTS_FILE);
  const hint = fetchHint(env);
  const fail = (what: string) => new PaperWeightsError('network', `could not download the paper's weights from ${url}: ${what}`, hint);
  const stream = await openStream(url, opts.idleMs ?? 30_000, fail);
  const chunks: Uint8Array[] = [];
  try {
    for await (const c of stream.chunks) {
      chunks.push(c);
      opts.onProgress?.(stream.received(), stream.total);
    }
  } finally {
    stream.close();
  }
  const received = stream.received();
  const bytes = new Uint8Array(received);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  const got = sha256(bytes);
  if (got !== PAPER_WEIGHTS_SHA256) {
    throw new PaperWeightsError('mismatch', `the file downloaded from ${url} (${received} bytes) has sha256 ${got}, not the paper's ${PAPER_WEIGHTS_SHA256}; it was not kept`, hint);
  }
  // Verified: write it beside its final name and rename, so a reader never sees half a file.
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${PAPER_WEIGHTS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { file: dest, bytes, downloaded: true };
}
