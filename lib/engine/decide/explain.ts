// Why a stage is stale: the named differences between two key records (targets' habit:
// every staleness reason is a small check that can be told to the user).

import { diffCode } from './sources.ts';
import type { Entry } from '../keep/entry.ts';
import type { KeyRecord } from './key.ts';

function flatten(prefix: string, v: unknown, out: Record<string, string>) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else out[prefix] = JSON.stringify(v);
}

/** Human reasons why `now` differs from `before` (both key records of one stage). */
export function explainChange(before: Entry, now: { record: KeyRecord; codeFiles: Record<string, string> }): string[] {
  const b = before.record;
  const a = now.record;
  const r: string[] = [];
  if (b.engine !== a.engine) r.push(`engine format changed: ${b.engine} -> ${a.engine}`);
  if (b.code !== a.code) {
    const d = diffCode(before.codeFiles ?? {}, now.codeFiles);
    r.push(...(d.length ? d : ['code changed']));
  }
  const pb: Record<string, string> = {};
  const pa: Record<string, string> = {};
  flatten('', b.params, pb);
  flatten('', a.params, pa);
  for (const k of new Set([...Object.keys(pb), ...Object.keys(pa)])) {
    if (pb[k] !== pa[k]) r.push(`param ${a.stage}.${k}: ${pb[k] ?? '(unset)'} -> ${pa[k] ?? '(unset)'}`);
  }
  for (const k of new Set([...Object.keys(b.inputs), ...Object.keys(a.inputs)])) {
    if (!(k in b.inputs)) r.push(`new input ${k}`);
    else if (!(k in a.inputs)) r.push(`input ${k} removed`);
    else if (b.inputs[k] !== a.inputs[k]) r.push(`upstream ${k} changed`);
  }
  for (const k of new Set([...Object.keys(b.externals), ...Object.keys(a.externals)])) {
    if (b.externals[k] !== a.externals[k]) r.push(`external file ${k} changed`);
  }
  for (const k of new Set([...Object.keys(b.env), ...Object.keys(a.env)])) {
    if (b.env[k] !== a.env[k]) r.push(`env ${k}: ${b.env[k] ?? '(unset)'} -> ${a.env[k] ?? '(unset)'}`);
  }
  return r.length ? r : ['key changed'];
}
