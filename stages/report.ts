// The report (SPEC §R): every table of the paper with the paper's figure beside ours and
// a status, written as reports/<label>/report.json and the report.md rendered from it.
// The paper's figures come from lib/report/paper-figures.json and feed only the "paper"
// column and the status.

import { defineStage } from '../lib/engine/types.ts';
import { buildReport, defaultLabel } from '../lib/report/build.ts';
import { plotData, renderPlots } from '../lib/report/plot-data.ts';
import figures from '../lib/report/paper-figures.json' with { type: 'json' };
import * as params from '../lib/report/sections/params.ts';
import * as isomorphism from '../lib/report/sections/isomorphism.ts';
import * as boolean from '../lib/report/sections/boolean.ts';
import * as factorMap from '../lib/report/sections/factor-map.ts';
import * as skipgrams from '../lib/report/sections/skipgrams.ts';
import * as construction from '../lib/report/sections/construction.ts';
import * as carrier from '../lib/report/sections/carrier-pattern.ts';
import * as influence from '../lib/report/sections/influence.ts';
import * as decomposition from '../lib/report/sections/decomposition.ts';
import * as baselines from '../lib/report/sections/baselines.ts';

interface Params {
  label: string | null;
}

// In paper order. `needs`: the stages a section reads (all are inputs of this stage).
const SECTIONS = [
  { name: 'params', needs: ['data', 'model'], build: params.build },
  { name: 'isomorphism', needs: ['isomorphism', 'trace'], build: isomorphism.build },
  { name: 'boolean', needs: ['boolean'], build: boolean.build },
  { name: 'factor-map', needs: ['factor-map'], build: factorMap.build },
  { name: 'skipgrams', needs: ['skipgrams', 'trace'], build: skipgrams.build },
  { name: 'construction', needs: ['construction', 'reverse-iso', 'trace'], build: construction.build },
  { name: 'baselines', needs: ['baselines'], build: baselines.build },
  { name: 'carrier-pattern', needs: ['carrier-pattern'], build: carrier.build },
  { name: 'influence', needs: ['influence'], build: influence.build },
  { name: 'decomposition', needs: ['decomposition'], build: decomposition.build },
];

const INPUTS = ['data', 'model', 'trace', ...new Set(SECTIONS.flatMap((s) => s.needs))].filter((v, i, a) => a.indexOf(v) === i);

export default defineStage<Params>({
  name: 'report',
  description: 'writes reports/<label>/report.md and report.json: every table, ours beside the paper',
  inputs: INPUTS,
  async run({ params, inputs }) {
    const label = params.label ?? defaultLabel(inputs);
    const plots = plotData(inputs);
    const rendered = await renderPlots(plots);
    const r = buildReport(inputs, SECTIONS, figures as any, label, {
      plots,
      plotLinks: rendered.map((p) => ({ title: p.title, file: p.file })),
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
