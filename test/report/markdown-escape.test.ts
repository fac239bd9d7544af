// report.md cannot carry HTML: a data file full of <, >, &, backticks, pipes and
// `<img src=x onerror=alert(1)>` (its bytes in the §5.4 context and the bytes of the
// decomposition, its name as the data file, a weights file named like it) is rendered by a
// real Markdown renderer (marked), and no tag comes out that the report did not write,
// while the text still reads as the data's characters.

import { describe, expect, it } from 'vitest';
import { marked } from 'marked';
import { buildReport } from '../../lib/report/build.ts';
import { esc, mdCode, mdText, noHtml, renderTable } from '../../lib/report/markdown.ts';
import { build as decomposition } from '../../lib/report/sections/decomposition.ts';
import { build as params } from '../../lib/report/sections/params.ts';
import { byteChar } from '../../lib/analysis/byte-char.ts';
import figures from '../../lib/report/paper-figures.json' with { type: 'json' };
import type { StageOutput } from '../../lib/engine/types.ts';

const EVIL = '<img src=x onerror=alert(1)> & <script>alert(2)</script> `code` ``` | a | [x](javascript:alert(3)) <b>**bold**</b> &lt;';
const out = (json: any): StageOutput => ({ json, tensors: {}, key: 'k0k1k2k3k4k5', outputHash: 'h' });

/** Every tag marked produced, by name. */
const tags = (html: string) => [...html.matchAll(/<\/?([A-Za-z][A-Za-z0-9-]*)/g)].map((m) => m[1].toLowerCase());
/** The tags a report writes itself. */
const ALLOWED = new Set(['h1', 'h2', 'h3', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'ul', 'li', 'em', 'strong', 'a', 'br', 'hr']);

function hostileReport(): string {
  const bytes = Buffer.from(EVIL);
  const decomp = {
    position: 29,
    byte: { code: 0x3c, char: byteChar(0x3c) },
    target: { code: 0x60, char: byteChar(0x60) },
    topUnits: [{ unit: 3, contribution: 0.5, wy: 0.1, delta: 0.2 }],
    carrierLogit: 1, carrierFraction: 0.5, patternLogit: 1, patternFraction: 0.5, totalLogit: 2, actualLogit: 2,
    carrierOnlyBits: 1, actualBits: 1, psUnits: 4,
    context: [...bytes].map(byteChar).join(''),
  };
  const inputs = {
    data: out({ bytes: bytes.length, source: 'file', name: `${EVIL}.txt`, sha256: 'ab'.repeat(32) }),
    model: out({ source: 'import', name: `${EVIL}.bin`, H: 8, paramCount: 100 }),
    decomposition: out(decomp),
  };
  const builders = [
    { name: 'params', needs: ['data', 'model'], build: params },
    { name: 'decomposition', needs: ['decomposition'], build: decomposition },
  ];
  return buildReport(inputs, builders, figures as any, 'lbl', { overrides: { data: { path: `${EVIL}.txt` } } }).markdown;
}

describe('report.md escapes what comes from data', () => {
  it('a hostile data file and file names render as text: no tag the report did not write', () => {
    const md = hostileReport();
    expect(md).toContain('<!-- table:pos29_decomposition -->'); // the report's own markers stay
    const html = marked.parse(md, { async: false }) as string;
    const bad = tags(html).filter((t) => !ALLOWED.has(t));
    expect(bad).toEqual([]);
    expect(html).not.toMatch(/<img|<script|<b>|onerror=alert\(1\)>/i);
    expect(html).not.toMatch(/href="javascript:/i);
    // The data is still shown, as its characters (entities in HTML).
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toMatch(/&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  });

  it('mdText and mdCode render as the characters they were given', () => {
    for (const s of [EVIL, '`', '``x``', '| a |', '<', '&amp;', '\\', '*x*', '_y_', '# h', '![i](j)']) {
      const text = (marked.parseInline(mdText(s), { async: false }) as string);
      expect(tags(text), s).toEqual([]);
      const decoded = text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      expect(decoded, s).toBe(s);
      const code = marked.parseInline(mdCode(s), { async: false }) as string;
      expect(tags(code).filter((t) => t !== 'code'), s).toEqual([]);
    }
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('plain')).toBe('`plain`');
  });

  it("esc keeps a section's own code spans and escapes the rest; noHtml leaves only the markers", () => {
    expect(esc('see `metric.id` and <b>x</b>')).toBe('see `metric.id` and &lt;b&gt;x&lt;/b&gt;');
    expect(noHtml('<!-- table:a_b -->\nx <img> [l](javascript:x) [ok](https://e.org)')).toBe('<!-- table:a_b -->\nx &lt;img> [l]&#40;javascript:x) [ok](https://e.org)');
    const t = renderTable({
      id: 't', title: '<i>t</i>', section: '§1', positions: '<p>', columns: [{ key: 'a', label: '<th>' }],
      rows: [{ a: '<img src=x onerror=alert(1)>|`' }], rowStatus: [''], notes: ['<script>x</script>'],
    } as any);
    expect(tags(marked.parse(noHtml(t), { async: false }) as string).filter((x) => !ALLOWED.has(x))).toEqual([]);
  });
});
