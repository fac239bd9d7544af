// docs/definitions.md defines every metric a report holds: a real report (a tiny model on
// the shipped data, built by the engine in a copy of the project, the cheapest full report
// the suite builds) must have no metric id that matches no id or id pattern written in it.
// Also: the ids of the §6.3 and §6.5 families are there, the section anchors the report
// links to exist, and the doc never points outside the project.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { STAGES } from '../../pipeline.ts';
import { copyProject, root } from '../helpers/project.ts';
import { definitionAnchor } from '../../lib/report/definitions-link.ts';

const DOC = fs.readFileSync(path.join(root, 'docs/definitions.md'), 'utf8');

/** Every id or id pattern the doc writes in backquotes, as a regular expression. */
function idPatterns(doc: string): RegExp[] {
  const spans = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  return spans
    .filter((s) => /^[A-Za-z0-9_.<>{},()+-]+$/.test(s) && /[._]/.test(s))
    .map((s) => {
      let re = '';
      for (let i = 0; i < s.length; ) {
        if (s[i] === '<') {
          const end = s.indexOf('>', i);
          re += '[A-Za-z0-9_-]+';
          i = end + 1;
        } else if (s[i] === '{') {
          const end = s.indexOf('}', i);
          re += `(?:${s.slice(i + 1, end).split(',').map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
          i = end + 1;
        } else {
          re += s[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          i++;
        }
      }
      return new RegExp(`^${re}$`);
    });
}

const patterns = idPatterns(DOC);
const defined = (id: string) => patterns.some((re) => re.test(id));

describe('docs/definitions.md', () => {
  it('reads ids and patterns, so that an undocumented id fails', () => {
    expect(patterns.length).toBeGreaterThan(50);
    for (const id of [
      'kn.k1.heldout_bpc', 'kn.k6.heldout_bpc', 'kn.best.heldout_bpc', 'kn.best.order',
      'rebuild.full.kl_train', 'rebuild.marginal.bits', 'rebuild.rules_wl_tag.sign_train', 'rebuild.rules_wl_tag.worth_bits',
      'rebuild.ref_reverse_iso.bits', 'rebuild.ref_kn.heldout_bpc', 'rebuild.trained.heldout_bpc',
      'decomposition.pos29.carrier_logit', 'decomposition.pos100.total_logit', 'pos29_pattern_logit',
      'timing_carrier.wl_tag_x1.heldout_sign_agreement', 'pattern_table.h68.accuracy', 'trained_bpc',
    ]) {
      expect(defined(id), id).toBe(true);
    }
    for (const id of ['kn.k1.bpc', 'rebuild.full.gzip', 'decomposition.pos29.logit', 'no_such_metric', 'timing_carrier.wl.r2']) expect(defined(id), id).toBe(false);
  });

  it('has an anchor for every section the report links to, and points nowhere outside the project', () => {
    for (const [section, id] of [['§2', undefined], ['§3.3 Table 1', 'table1_factor_map'], ['§5.3 Table 2', 'table2_carrier_pattern'], ['§6.2', 'timing_carrier'], ['§6.2', 'rebuild.full.bpc'], ['§6.5', 'kn.best.order'], ['§5.4', 'decomposition.pos29.carrier_logit']] as const) {
      const a = definitionAnchor(section, id);
      expect(DOC, `${section} ${id}`).toContain(`<a id="${a}"></a>`);
    }
    for (const n of ['3.1', '3.2', '3.3', '3.4', '4.1', '4.2', '5.1', '5.2', '5.3', '5.4', '6.1', '6.2', '6.3', '6.4', '6.5']) {
      expect(DOC).toMatch(new RegExp(`<a id="s${n.replace('.', '-')}"></a>\\n#+ §${n.replace('.', '\\.')} `));
    }
    expect(DOC).not.toMatch(/SPEC|\.\.\/shared|\/work\//);
  });
});

describe('a real report has no metric id that docs/definitions.md does not define', () => {
  let metrics: Record<string, { aliasOf?: string }>;

  beforeAll(async () => {
    const dir = copyProject();
    const p = await Pipeline.load({ root: dir, stageFiles: STAGES, env: {} });
    const overrides = {
      train: { hidden: 8, epochs: 3, evalEvery: 1 },
      construction: { steps: 20, scaleCount: 6, alphaCount: 2 },
      'reverse-iso': { steps: 20 },
    };
    const { entries } = await p.build(['report'], { overrides });
    const out = (await p.output(entries.report)).json;
    metrics = JSON.parse(fs.readFileSync(path.join(p.reportsDir, out.reportJson), 'utf8')).metrics;
  }, 240_000);

  it('every metric id, aliases included, matches an id or pattern of the doc', () => {
    const ids = Object.keys(metrics);
    expect(ids.length).toBeGreaterThan(40);
    expect(ids).toContain('decomposition.pos29.carrier_logit');
    expect(ids.filter((id) => !defined(id))).toEqual([]);
  });
});
