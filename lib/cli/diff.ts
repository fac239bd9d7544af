// `diff A B`: two reports compared (lib/report/diff.ts): the params that differ and from
// what, then metrics and table cells beyond the noise rule (--all: every change), with
// changes beyond an aggregate's seed spread flagged.

import fs from 'node:fs';
import path from 'node:path';
import type { Pipeline } from '../engine/pipeline.ts';
import { diffReports, renderDiff } from '../report/diff.ts';
import { findAggregate, loadReport } from './reports.ts';
import type { Io } from './commands.ts';
import { CliError } from './errors.ts';

const fileOf = (reportsDir: string, ref: string) => {
  const f = fs.existsSync(ref) && fs.statSync(ref).isFile() ? ref : path.join(reportsDir, ref, 'report.json');
  try {
    return fs.realpathSync(f);
  } catch {
    return path.resolve(f);
  }
};

export function runDiff(p: Pipeline, io: Io, a: string, b: string, o: { json?: boolean; aggregate?: string; exitCode?: boolean; all?: boolean }): number {
  const A = loadReport(p.reportsDir, a);
  const B = loadReport(p.reportsDir, b);
  if (fileOf(p.reportsDir, a) === fileOf(p.reportsDir, b)) {
    throw new CliError('usage', `diff: "${a}" and "${b}" are the same report (${A.label}); there is nothing to compare`, 'name two reports: npx tsx pipeline.ts ls lists them');
  }
  const agg = findAggregate(p.reportsDir, [A.label, B.label], o.aggregate);
  const defaults = (param: string) => {
    const [stage, k] = [param.slice(0, param.indexOf('.')), param.slice(param.indexOf('.') + 1)];
    return p.byName.get(stage)?.schemas.params?.properties?.[k]?.default;
  };
  const d = diffReports(A, B, agg, { all: o.all, defaults });
  io.out.write(o.json ? JSON.stringify({ ...d, aggregate: agg?.label ?? null }) + '\n' : renderDiff(d) + (agg ? `(seed spread from ${agg.label})\n` : ''));
  const changed = d.params.length + d.metrics.filter((c) => !c.noise).length + d.tables.length + d.onlyInA.length + d.onlyInB.length > 0;
  return o.exitCode && changed ? 1 : 0;
}
