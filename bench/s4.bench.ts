// Benchmark: the two §4 stages (construction, reverse-iso) on the reference data.
// Budget: both together ≤ 10 s (the authors' C tools take about 250 s).
//   node --import tsx bench/s4.bench.ts [reps]
import construction from '../stages/construction.ts';
import reverseIso from '../stages/reverse-iso.ts';
import skipgrams from '../stages/skipgrams.ts';
import { isMain, output, printTimings, referenceInputs, runStage, timeStages } from './stage-bench.ts';

export async function benchS4(reps = 3) {
  const inputs = referenceInputs();
  // the offset list comes from the real skipgrams stage (not timed here: it is §3.4's)
  inputs.skipgrams = output((await runStage(skipgrams, inputs)).json, {}, 'skipgrams');
  const figures: Record<string, number> = {};
  // CPU time per stage too: on a shared machine the wall-clock median is mostly the load.
  const cpuMs: Record<string, number[]> = {};
  let last = process.cpuUsage();
  const t = await timeStages([construction, reverseIso], inputs, reps, (def, res) => {
    const now = process.cpuUsage();
    (cpuMs[def.name] ??= []).push((now.user - last.user + now.system - last.system) / 1000);
    last = now;
    const j = res.json as Record<string, number>;
    if (def.name === 'construction') Object.assign(figures, { analyticBpc: j.analyticBpc, alpha: j.alpha, scale: j.scale, optimizedBpc: j.optimizedBpc });
    else figures.reverseIsoBpc = j.bpc;
  });
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { ...t, figures, cpuMedianMs: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, median(v)])) };
}

if (isMain(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 3);
  const r = await benchS4(reps);
  printTimings('all §4', r, 10_000, reps);
  console.log(`CPU time (median): ${Object.entries(r.cpuMedianMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
  console.log(Object.entries(r.figures).map(([k, v]) => `${k} ${v}`).join(', '));
}
