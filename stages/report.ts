// The report (docs/definitions.md §R): every table of the paper with the paper's figure beside ours and
// a status, written as reports/<label>/report.json and the report.md rendered from it.
// The paper's figures come from lib/report/paper-figures.json and feed only the "paper"
// column and the status.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineStage } from '../lib/engine/types.ts';
import { vegaBundleFiles } from '../lib/report/viewer/libs.ts';
import type { Params } from '../schemas/report.params.ts';

// Reports of other runs live in the project's reports/ folder (the same one this stage's
// artifacts go to). `reference` names one of them by label: its report.json is declared as
// an external file under the label's name, so its content hash enters the key and no path.
const REPORTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../reports');

// The section builders, the paper's figures and the plotting code are imported inside
// `run`: a no-op `report` loads this file to learn its inputs and should not pay for them.

// In paper order. `needs`: the stages a section reads (all are inputs of this stage).
export const SECTIONS = [
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
  { name: 'timing-carrier', needs: ['timing-carrier'], load: () => import('../lib/report/sections/timing-carrier.ts') },
  { name: 'pattern-tables', needs: ['pattern-tables'], load: () => import('../lib/report/sections/pattern-tables.ts') },
  { name: 'rebuild', needs: ['rebuild-score', 'timing-carrier', 'pattern-tables'], load: () => import('../lib/report/sections/rebuild.ts') },
  { name: 'kn', needs: ['kn'], load: () => import('../lib/report/sections/kn.ts') },
];

// The viewer (stages/viewer.ts) writes viewer.html into the same folder; the report links it.
const INPUTS = ['data', 'model', 'trace', ...new Set(SECTIONS.flatMap((s) => s.needs)), 'viewer'].filter((v, i, a) => a.indexOf(v) === i);

export default defineStage<Params>({
  name: 'report',
  description: 'writes reports/<label>/report.md and report.json: every table, ours beside the paper',
  inputs: INPUTS,
  expectSeconds: 0.5,
  // The label and the report name the params that differ from their defaults.
  overrides: true,
  // vega, vega-lite and vega-embed, inlined into plots/interactive.html; and the reference
  // report, when named.
  externals: (p) => [
    ...vegaBundleFiles(),
    ...(p.reference
      ? [
          {
            name: p.reference,
            display: p.reference,
            path: path.join(REPORTS, p.reference, 'report.json'),
            hint: `report.reference names a report under reports/ built on the paper's weights; build it first: npx tsx pipeline.ts report --set model.source=FILE --set report.label=${p.reference}`,
          },
        ]
      : []),
  ],
  async run({ params, inputs, externals, overrides = {}, warn }) {
    // The render thread starts first: vega loads there while this thread loads the builders.
    (await import('../lib/report/plots.ts')).startRenderer();
    const [{ buildReport, reportLabel }, { plotData, plotSpecs, renderAll }, { s6PlotSpecs }, { interactivePlotsHtml }, { readVegaBundles }, figures] = await Promise.all([
      import('../lib/report/build.ts'),
      import('../lib/report/plot-data.ts'),
      import('../lib/report/plots-s6.ts'),
      import('../lib/report/interactive.ts'),
      import('../lib/report/viewer/libs.ts'),
      import('../lib/report/paper-figures.json', { with: { type: 'json' } }).then((m) => m.default),
    ]);
    const label = params.label ?? reportLabel(inputs, overrides);
    const plots = plotData(inputs, figures as any);
    // every plot (the §6.2 ones last) renders on the render thread while the report is built here
    const specs = [...plotSpecs(plots).map((p) => ({ ...p, file: `plots/${p.name}.svg` })), ...s6PlotSpecs(inputs)];
    const rendering = renderAll(specs);
    rendering.catch(() => {}); // awaited below; a build error thrown first must not leave it unhandled
    const builders = await Promise.all(SECTIONS.map(async (s) => ({ name: s.name, needs: s.needs, build: (await s.load()).build })));
    const reference = params.reference ? readReference(params.reference, externals[params.reference]?.path, inputs, warn) : null;
    const interactive = specs.length ? 'plots/interactive.html' : null;
    const viewer = inputs.viewer?.json.file === `${label}/viewer.html` ? 'viewer.html' : null;
    const r = buildReport(inputs, builders, figures as any, label, {
      reference,
      plots,
      plotLinks: specs.map((p) => ({ name: p.name, title: p.title, file: p.file, table: p.table })),
      interactive,
      viewer,
      overrides,
    });
    const bundles = interactive ? await readVegaBundles(externals) : null;
    const svgs = await rendering;
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
        ...Object.fromEntries(svgs.map((p) => [`${label}/${p.file}`, p.svg])),
        ...(interactive ? { [`${label}/${interactive}`]: interactivePlotsHtml(label, specs, bundles!) } : {}),
      },
    };
  },
});

/** The reference report's JSON: a report on imported weights; its data should be ours. */
function readReference(label: string, file: string | undefined, inputs: Record<string, { json: any }>, warn: (m: string) => void) {
  let j: any;
  try {
    j = JSON.parse(fs.readFileSync(file ?? path.join(REPORTS, label, 'report.json'), 'utf8'));
  } catch (e) {
    throw new Error(`report: cannot read the reference report "${label}": ${(e as Error).message}\nhint: rebuild it with npx tsx pipeline.ts report --set model.source=FILE --set report.label=${label}`);
  }
  if (!j || typeof j !== 'object' || !j.metrics || !j.tables || !j.model) {
    throw new Error(`report: reports/${label}/report.json is not a report (no metrics, tables or model)\nhint: report.reference takes the label of a report built by this pipeline`);
  }
  if (j.model.source !== 'import') {
    throw new Error(`report: the reference report "${label}" is on a model trained here, not on imported weights\nhint: report.reference takes a report built with --set model.source=FILE (the paper's weights)`);
  }
  if (inputs.model.json.source === 'import') warn(`report.reference=${label} is ignored: this report is itself on imported weights`);
  if (j.data?.sha256 !== inputs.data.json.sha256) {
    warn(`the reference report "${label}" was built on other data (sha256 ${String(j.data?.sha256).slice(0, 12)}…, ours ${String(inputs.data.json.sha256).slice(0, 12)}…)`);
  }
  return j;
}
