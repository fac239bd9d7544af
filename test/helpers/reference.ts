// The reference files tests may use, found without the network and without ../shared:
// - the paper's data: the project's own data/enwik9-head-1024.txt (always there);
// - the paper's weights: TOTAL_INTERP_PAPER_WEIGHTS or the download folder, hash-checked
//   (lib/data/paper-weights.ts); absent on a fresh clone, and tests that need them are
//   skipped (`it.skipIf(!PAPER_WEIGHTS)`), with one line from test/helpers/global-setup.ts;
// - enwik9's first MiB: TOTAL_INTERP_ENWIK9_1MIB, else ../shared/reference/ when it is
//   beside the project (as in CI), else absent (tests skip).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_PATH } from '../../lib/data/inputs.ts';
import { findPaperWeights } from '../../lib/data/paper-weights.ts';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The first 1024 bytes of enwik9, shipped with the project. */
export const REF_DATA = EMBEDDED_PATH;

export function refBytes(): Uint8Array {
  return new Uint8Array(fs.readFileSync(REF_DATA));
}

/** How to run the tests that need the paper's weights. */
export const ENABLE_PAPER_TESTS = "tests that need the paper's weights are skipped; to run them: TOTAL_INTERP_PAPER_WEIGHTS=/path/to/sat_model.bin npm test";

/** The paper's sat_model.bin (hash-checked), or null when this machine has no copy. */
export function paperWeights(): string | null {
  return findPaperWeights(process.env);
}

/** The paper's weights file, or '' when absent (tests reading it use `skipIf(!PAPER_WEIGHTS)`). */
export const PAPER_WEIGHTS: string = paperWeights() ?? '';

/** enwik9's first 1,048,576 bytes, or null. */
export function enwik1MiB(): string | null {
  const named = process.env.TOTAL_INTERP_ENWIK9_1MIB;
  if (named) return path.resolve(named);
  const beside = path.resolve(root, '../shared/reference/enwik9-head-1MiB.txt');
  return fs.existsSync(beside) ? beside : null;
}
