// Every figure's `quote` in paper-figures.json is the paper's own text (the audit shows it
// beside the figure). Checked against ../shared/paper.md when it is there (CI has
// it beside the clone), after undoing the paper's Markdown/LaTeX markup and ignoring
// whitespace. A table row is quoted as "<table> row: cell | cell | …"; "…" skips text.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import figures from '../../lib/report/paper-figures.json' with { type: 'json' };
import { root } from '../helpers/project.ts';

const paperFile = path.resolve(root, '../shared/paper.md');
const hasPaper = fs.existsSync(paperFile);
if (!hasPaper) console.log('skipping the quote check: no ../shared/paper.md beside the checkout');

/** The paper's text as a reader sees it, without whitespace. */
function plain(s: string): string {
  return s
    .replace(/<\/?b>/g, '')
    .replace(/\\sim\b/g, '~')
    .replace(/\\approx\b/g, '≈')
    .replace(/\\times\b/g, '×')
    .replace(/\\cdot\b/g, '·')
    .replace(/\\Delta\b/g, 'Δ')
    .replace(/\\nabla\b/g, '∇')
    .replace(/\\%/g, '%')
    .replace(/[$*]/g, '')
    .replace(/\s+/g, '');
}

describe.skipIf(!hasPaper)("paper-figures.json quotes are the paper's text", () => {
  const paper = hasPaper ? plain(fs.readFileSync(paperFile, 'utf8')) : '';

  it('every result figure has a quote found in paper.md, in order', () => {
    const bad: string[] = [];
    for (const [key, fig] of Object.entries(figures as Record<string, { quote: string; kind?: string }>)) {
      if (fig.kind === 'config') continue;
      const body = fig.quote.replace(/^[^:|]* row: /, '').replace(/ \| /g, ' ');
      let at = 0;
      for (const part of body.split('…').map(plain)) {
        const i = paper.indexOf(part, at);
        if (!part || i < 0) {
          bad.push(`${key}: ${fig.quote}`);
          break;
        }
        at = i + part.length;
      }
    }
    expect(bad).toEqual([]);
  });

  it('the check can fail: a paraphrase is not found', () => {
    expect(paper.includes(plain('Sign-only dynamics beat float32 by 0.031 bpc'))).toBe(false);
    expect(paper.includes(plain('Sign-only dynamics are better by 0.031 bpc than float32.'))).toBe(true);
  });
});
