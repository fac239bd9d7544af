// Help texts beyond each command's flags (args.ts): the stages and their params (top-level --help), and
// the graph in force as Mermaid or JSON (`dag`).

import type { Params, Pipeline } from '../engine/pipeline.ts';

export function stagesHelp(p: Pipeline): string {
  const lines = ['', 'stages and their params (--set stage.param=value):'];
  for (const s of p.stages) {
    lines.push(`  ${s.def.name.padEnd(16)} ${(s.def.section ?? '').padEnd(6)} ${s.def.description}`);
    for (const [k, prop] of Object.entries<any>(s.schemas.params?.properties ?? {})) {
      lines.push(`      ${`${s.def.name}.${k}`.padEnd(26)} ${JSON.stringify(prop.default)}  ${prop.description ?? ''}`);
    }
  }
  lines.push(
    '',
    'environment: ENWIK9=FILE (data source beyond the shipped 1024 bytes), TOTAL_INTERP_CACHE=DIR (cache location),',
    "             TOTAL_INTERP_PAPER_WEIGHTS=FILE (a local copy of the paper's sat_model.bin),",
    '             TOTAL_INTERP_DOWNLOADS=DIR (where model.source=paper keeps its download),',
    '             TOTAL_INTERP_LOCK_TIMEOUT=SECONDS (how long to wait for another process building the same result; default 2 h),',
    '             TOTAL_INTERP_DEBUG=1 (full stacks of failing stages)',
    '',
    'exit codes: 0 done; 1 a stage failed (or, with --exit-code, something is stale/changed);',
    '            2 a usage error (unknown command, stage, param, option or report).',
  );
  return lines.join('\n') + '\n';
}

export interface DagJson {
  stages: { name: string; section: string | null; description: string; inputs: string[] }[];
}

export function dagJson(p: Pipeline, params: Params): DagJson {
  return {
    stages: p.graph(params).map((n) => {
      const d = p.byName.get(n.name)!.def;
      return { name: n.name, section: d.section ?? null, description: d.description, inputs: [...n.inputs] };
    }),
  };
}

/** Mermaid text of the graph in force. */
export function mermaid(p: Pipeline, params: Params): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR'];
  const { stages } = dagJson(p, params);
  for (const s of stages) lines.push(`  ${id(s.name)}["${s.name}${s.section ? `<br/>${s.section}` : ''}"]`);
  for (const s of stages) for (const i of s.inputs) lines.push(`  ${id(i)} --> ${id(s.name)}`);
  return lines.join('\n') + '\n';
}
