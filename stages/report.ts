// The report (SPEC §R): every table of the paper with the paper's figure beside ours and
// a status, written as reports/<label>/report.json and the report.md rendered from it.
// The paper's figures come from lib/report/paper-figures.json and feed only the "paper"
// column and the status.

import { defineStage } from '../lib/engine/types.ts';
import type { Params } from '../schemas/report.params.ts';

// The section builders, the paper's figures and the plotting code are imported inside
// `run`: a no-op `report` loads this file to learn its inputs and should not pay for them.

// In paper order. `needs`: the stages a section reads (all are inputs of this stage).
const SECTIONS = [
  { name: 'params', needs: ['data', 'model'], load: () => import('../lib/report/sections/params.ts') },
  { name: 'isomorphism', needs: ['isomorphism', 'trace'], load: () => import('../lib/report/sections/isomorphism.ts') },
  { name: 'boolean', needs: ['boolean'], load: () => import('../lib/report/sections/boolean.ts') },
  { name: 'factor-map', needs: ['factor-map'], load: () => import('../lib/report/sections/factor-map.ts') },
  { name: 'skipgrams', needs: ['skipgrams', 'trace'], load: () => import('../lib/report/sections/skipgrams.ts') },
  { name: 'construction', needs: ['construction', 'reverse-iso', 'trace'], load: () => import('../lib/report/sections/construction.ts') },
  { name: 'baselines', needs: ['baselines'], load: () => import('../lib/report/sections/baselines.ts') },
  { name: 'carrier-pattern', needs: ['carrier-pattern'], load: () => import('../lib/report/sections/carrier-pattern.ts') },
  { name: 'influence', needs: ['influence'], load: () => import('../lib/report/sections/influence.ts') },
  { name: 'decomposition', needs: ['decomposition'], load: () => import('../lib/report/sections/decomposition.ts') },
];

const INPUTS = ['data', 'model', 'trace', ...new Set(SECTIONS.flatMap((s) => s.needs))].filter((v, i, a) => a.indexOf(v) === i);

export default defineStage<Params>({
  name: 'report',
  description: 'writes reports/<label>/report.md and report.json: every table, ours beside the paper',
  inputs: INPUTS,
  // The label and the report name the params that differ from their defaults.
  overrides: true,
  async run({ params, inputs, overrides = {} }) {
    const [{ buildReport, reportLabel }, { plotData, renderPlots }, figures] = await Promise.all([
      import('../lib/report/build.ts'),
      import('../lib/report/plot-data.ts'),
      import('../lib/report/paper-figures.json', { with: { type: 'json' } }).then((m) => m.default),
    ]);
    const builders = await Promise.all(SECTIONS.map(async (s) => ({ name: s.name, needs: s.needs, build: (await s.load()).build })));
    const label = params.label ?? reportLabel(inputs, overrides);
    const plots = plotData(inputs);
    const rendered = await renderPlots(plots);
    const r = buildReport(inputs, builders, figures as any, label, {
      plots,
      plotLinks: rendered.map((p) => ({ title: p.title, file: p.file })),
      overrides,
    });
    return {
      json: {
        label,
        report: `${label}/report.md`,
        reportJson: `${label}/report.json`,
        summary: r.json.summary,
        tables: Object.keys(r.json.tables),
        metrics: Object.keys(r.json.metrics),
      },
      artifacts: {
        [`${label}/report.md`]: r.markdown,
        [`${label}/report.json`]: JSON.stringify(r.json, null, 1) + '\n',
        ...Object.fromEntries(rendered.map((p) => [`${label}/${p.file}`, p.svg])),
      },
    };
  },
});
