// `report --seeds 42,43,…`: one ordinary cached build per seed (--set train.seed=S), so
// seeds already built are not retrained. With --jobs N > 1, seeds run as N child pipeline
// processes at once (the per-(stage, key) locks make shared stages, like data, build
// once). The aggregate is then computed from the seeds' report.json files and written to
// reports/<aggregate label>/ with its plots.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Pipeline, Overrides, StageRun } from '../engine/pipeline.ts';
import type { Force } from '../engine/plan.ts';
import type { ReportJson } from '../report/audit.ts';
import type { Aggregate } from '../report/aggregate.ts';
import { findReference } from './reports.ts';
import { CliError } from './errors.ts';

export interface SeedRun {
  seed: number;
  stages: StageRun[];
  report: string;
  reportJson: string;
}

function writeAtomic(file: string, content: string | Uint8Array) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** Run one seed's report in a child pipeline process; its stderr lines are prefixed. */
function seedInChild(seed: number, argv: string[]): Promise<SeedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'report', '--json', ...argv, '--set', `train.seed=${seed}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      for (const line of String(d).split('\n')) if (line.trim()) process.stderr.write(`[seed ${seed}] ${line}\n`);
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`seed ${seed}: pipeline exited with code ${code}\n${err.trim().split('\n').slice(-3).join('\n')}`));
      try {
        const j = JSON.parse(out);
        resolve({ seed, stages: j.stages, report: j.report, reportJson: j.reportJson });
      } catch {
        reject(new Error(`seed ${seed}: could not read the child's JSON output`));
      }
    });
  });
}

export async function runSeeds(
  p: Pipeline,
  o: { seeds: number[]; overrides: Overrides; sets: string[]; jobs: number; force: Force; reference?: string },
): Promise<{ runs: SeedRun[]; report: string; reportJson: string; aggregate: Aggregate }> {
  const src = o.overrides.model?.source;
  if (src !== undefined && src !== 'train') {
    throw new CliError('usage', '--seeds trains one model per seed; it cannot be combined with --set model.source=FILE');
  }
  if (o.overrides.train?.seed !== undefined) throw new CliError('usage', '--seeds and --set train.seed cannot be combined');
  const runs: SeedRun[] = [];
  if (o.jobs > 1) {
    const queue = [...o.seeds];
    const forceArgs = o.force === true ? ['--force'] : Array.isArray(o.force) ? o.force.flatMap((f) => ['--force', f]) : [];
    const argv = [...o.sets.flatMap((s) => ['--set', s]), ...forceArgs];
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) runs.push(await seedInChild(s, argv));
    };
    await Promise.all(Array.from({ length: Math.min(o.jobs, o.seeds.length) }, worker));
    runs.sort((a, b) => o.seeds.indexOf(a.seed) - o.seeds.indexOf(b.seed));
  } else {
    for (const seed of o.seeds) {
      p.reporter.line(`seed ${seed}:`);
      const ov = { ...o.overrides, train: { ...(o.overrides.train ?? {}), seed } };
      const { runs: stages, entries } = await p.build(['report'], { overrides: ov, force: o.force });
      const j = p.json(entries.report);
      runs.push({ seed, stages, report: path.join(p.reportsDir, j.report), reportJson: path.join(p.reportsDir, j.reportJson) });
    }
  }
  const reports: ReportJson[] = runs.map((r) => JSON.parse(fs.readFileSync(r.reportJson, 'utf8')));
  const reference = findReference(p.reportsDir, reports[0].data.sha256, o.reference);
  const { aggregateFiles } = await import('../report/seeds.ts');
  const { label, aggregate, files } = await aggregateFiles(reports, reference, o.seeds);
  const dir = path.join(p.reportsDir, label);
  for (const [f, content] of Object.entries(files)) writeAtomic(path.join(dir, f), content);
  return { runs, report: path.join(dir, 'report.md'), reportJson: path.join(dir, 'report.json'), aggregate };
}
