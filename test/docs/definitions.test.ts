// docs/definitions.md defines every metric a report holds: the ids of the §6.3 and §6.5
// families are there, the section anchors the report links to exist, and the doc never
// points outside the project. That a real report has no metric id the doc does not define
// is checked end to end in definitions-report.test.ts (it builds a tiny report).

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/project.ts';
import { definedIn, idPatterns } from '../helpers/definitions.ts';
import { definitionAnchor } from '../../lib/report/definitions-link.ts';

const DOC = fs.readFileSync(path.join(root, 'docs/definitions.md'), 'utf8');
const defined = definedIn(DOC);

describe('docs/definitions.md', () => {
  it('reads ids and patterns, so that an undocumented id fails', () => {
    expect(idPatterns(DOC).length).toBeGreaterThan(50);
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
