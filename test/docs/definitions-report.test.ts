// docs/definitions.md defines every metric a report holds: a real report (a tiny model on
// the shipped data, built by the engine in a copy of the project, the cheapest full report
// the suite builds) must have no metric id that matches no id or id pattern written in it.
// End to end (the e2e project): it builds a whole report.

import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../lib/engine/pipeline.ts';
import { STAGES } from '../../pipeline.ts';
import { copyProject, root } from '../helpers/project.ts';
import { definedIn } from '../helpers/definitions.ts';

const defined = definedIn(fs.readFileSync(path.join(root, 'docs/definitions.md'), 'utf8'));

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
