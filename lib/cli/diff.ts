// `diff A B`: two reports compared table by table and metric by metric (lib/report/diff.ts),
// with changes beyond an aggregate's seed spread flagged.

import { diffReports, renderDiff } from '../report/diff.ts';
import { findAggregate, loadReport } from './reports.ts';
import type { Io } from './commands.ts';

export function runDiff(reportsDir: string, io: Io, a: string, b: string, o: { json?: boolean; aggregate?: string; exitCode?: boolean }): number {
  const A = loadReport(reportsDir, a);
  const B = loadReport(reportsDir, b);
  const agg = findAggregate(reportsDir, [A.label, B.label], o.aggregate);
  const d = diffReports(A, B, agg);
  io.out.write(o.json ? JSON.stringify({ ...d, aggregate: agg?.label ?? null }) + '\n' : renderDiff(d) + (agg ? `(seed spread from ${agg.label})\n` : ''));
  const changed = d.metrics.length + d.tables.length + d.onlyInA.length + d.onlyInB.length > 0;
  return o.exitCode && changed ? 1 : 0;
}
