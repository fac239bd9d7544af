// Finding reports under reports/: a label or a report.json path; the newest report on
// imported weights (the paper's-weights column); an aggregate that includes a report.

import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import type { ReportJson } from '../report/audit.ts';
import type { Aggregate } from '../report/aggregate.ts';
import { CliError } from './errors.ts';

/** Every reports/<label>/report.json, as absolute paths (sorted by label). */
export function reportFiles(reportsDir: string): string[] {
  if (!fs.existsSync(reportsDir)) return [];
  return fg.sync('*/report.json', { cwd: reportsDir, absolute: true, onlyFiles: true }).sort();
}

/**
 * An aggregate's record of the cache entries it was read from ("stage/key"), beside its
 * report.json: a sweep with --targets builds stages whose results appear in no file of
 * their own, and gc keeps what any such record names.
 */
export const BUILT_FROM = 'built-from.json';

export function builtFromFile(entries: Record<string, { key: string }>[]): string {
  const ids = [...new Set(entries.flatMap((e) => Object.entries(e).map(([stage, x]) => `${stage}/${x.key}`)))].sort();
  return JSON.stringify({ entries: ids }, null, 1) + '\n';
}

/** Every entry the aggregates under reports/ record (BUILT_FROM), and the files that could not be read. */
export function builtFromEntries(reportsDir: string): { ids: string[]; unreadable: string[] } {
  if (!fs.existsSync(reportsDir)) return { ids: [], unreadable: [] };
  const ids: string[] = [];
  const unreadable: string[] = [];
  for (const f of fg.sync(`*/${BUILT_FROM}`, { cwd: reportsDir, absolute: true, onlyFiles: true }).sort()) {
    const j = readJson<{ entries?: unknown }>(f);
    if (Array.isArray(j?.entries) && j.entries.every((x) => typeof x === 'string')) ids.push(...(j.entries as string[]));
    else unreadable.push(f);
  }
  return { ids, unreadable };
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const labelOf = (file: string) => path.basename(path.dirname(file));

/** A report.json by path, or by label under reports/. */
export function loadReport(reportsDir: string, ref: string, what = 'diff'): ReportJson {
  const file = fs.existsSync(ref) && fs.statSync(ref).isFile() ? ref : path.join(reportsDir, ref, 'report.json');
  if (!fs.existsSync(file)) {
    const labels = reportFiles(reportsDir).map(labelOf);
    throw new CliError('no-report', `${what}: no report "${ref}" (looked for ${path.relative(process.cwd(), file)})\nreports: ${labels.join(', ') || '(none)'}`, 'name a label under reports/ or a report.json path');
  }
  let j: ReportJson;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError('no-report', `${what}: ${file} is not JSON (${(e as Error).message})`, 'name a report by its label under reports/ or by the path of its report.json');
  }
  if (!j?.metrics || !j.tables) throw new CliError('no-report', `${what}: ${file} is not a report.json (no metrics/tables)`, 'name a report by its label under reports/ or by the path of its report.json');
  return j;
}

/** The newest report built on imported weights for the same data, or the one `prefer` names. */
export function findReference(reportsDir: string, dataSha: string, prefer?: string): ReportJson | null {
  if (prefer) return loadReport(reportsDir, prefer, '--reference');
  const found: { r: ReportJson; mtime: number }[] = [];
  for (const f of reportFiles(reportsDir)) {
    const r = readJson<ReportJson>(f);
    if (r?.model?.source === 'import' && r.data?.sha256 === dataSha) found.push({ r, mtime: fs.statSync(f).mtimeMs });
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found[0]?.r ?? null;
}

/** An aggregate whose reports include one of `labels`, or the one `prefer` names. */
export function findAggregate(reportsDir: string, labels: string[], prefer?: string): Aggregate | null {
  if (prefer) return loadReport(reportsDir, prefer, '--aggregate') as unknown as Aggregate;
  for (const f of reportFiles(reportsDir).filter((x) => labelOf(x).startsWith('aggregate-'))) {
    const a = readJson<Aggregate>(f);
    if (a?.reports?.some((r) => labels.includes(r))) return a;
  }
  return null;
}
