// Benchmark: the four §6.2 stages (timing-carrier, pattern-tables, describe, rebuild) on
// the paper's weights and the N = 1024 reference bytes; each stage's output feeds the next
// (rebuild-score needs construction and reverse-iso, which their own benches time).
// Budget: all four together ≤ 5 s.   node --import tsx bench/s6.bench.ts [reps]
import timingCarrier from '../stages/timing-carrier.ts';
import patternTables from '../stages/pattern-tables.ts';
import describe from '../stages/describe.ts';
import rebuild from '../stages/rebuild.ts';
import { isMain, output, printTimings, referenceInputs, timeStages } from './stage-bench.ts';

export const BUDGET_MS = 5_000;

export async function benchS6(reps = 3) {
  const inputs = referenceInputs();
  const figures: Record<string, number> = {};
  // CPU time per stage too: on a shared machine the wall-clock median is mostly the load.
  const cpuMs: Record<string, number[]> = {};
  let last = process.cpuUsage();
  const t = await timeStages([timingCarrier, patternTables, describe, rebuild], inputs, reps, (def, res) => {
    const now = process.cpuUsage();
    (cpuMs[def.name] ??= []).push((now.user - last.user + now.system - last.system) / 1000);
    last = now;
    inputs[def.name] = output(res.json, res.tensors ?? {}, def.name);
    if (def.name === 'rebuild') for (const l of (res.json as any).levels) figures[l.level] = l.bits;
  });
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { ...t, figures, cpuMedianMs: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, median(v)])) };
}

if (isMain(import.meta.url)) {
  const reps = Number(process.argv[2] ?? 3);
  const r = await benchS6(reps);
  printTimings('all §6.2', r, BUDGET_MS, reps);
  const cpu = Object.values(r.cpuMedianMs).reduce((a, b) => a + b, 0);
  console.log(`CPU time (median): ${Object.entries(r.cpuMedianMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}; all ${cpu.toFixed(0)} ms`);
  console.log('description bits: ' + Object.entries(r.figures).map(([k, v]) => `${k} ${v}`).join(', '));
}
