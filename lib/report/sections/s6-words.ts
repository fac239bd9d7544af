// Paper §6.2: the readings in words of the Q1, Q2 and Q4 answers, generated from the
// stage outputs (timing-carrier, pattern-tables, rebuild) so that they follow the numbers
// of whatever model the report is about. Shared by the section builders of §6.2.

const f = (x: number, d = 3) => x.toFixed(d);
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;

interface TimingRow { set: string; cells: number; carrierR2: number; signAgreement: number; bpc: number; x: number; heldoutBpc: number; heldoutSignAgreement: number }

/** Q1: can timing rules build the carrier? */
export function q1Words(tc: { rows: TimingRow[]; trainedBpc: number }): string {
  const by = Object.fromEntries(tc.rows.map((r) => [r.set, r]));
  const wt = by['wl+tag'];
  const best = tc.rows.reduce((a, b) => (b.heldoutBpc < a.heldoutBpc ? b : a));
  const timingLeads = best.set === 'wl+tag' || best.set === 'wl';
  const verdict = wt.carrierR2 >= 0.9 ? 'largely yes' : wt.carrierR2 >= 0.5 ? 'in part' : 'no';
  const x12 = by['x1+x2'];
  return [
    `Timing rules alone (word length and in-tag, ${wt.cells} cells) explain R² = ${f(wt.carrierR2)} of the carrier's variance and give the sign of ${pct(wt.signAgreement)} of neuron-steps;`,
    `with each unit's carrier replaced by its cell mean the trained readout gets ${f(wt.bpc)} bpc (X% = ${f(wt.x, 1)}; ${f(wt.heldoutBpc)} held out) against the model's ${f(tc.trainedBpc, 4)}.`,
    `Adding the previous byte (wl+tag+x1, ${by['wl+tag+x1'].cells} cells) raises R² to ${f(by['wl+tag+x1'].carrierR2)}, and the two previous bytes alone (x1+x2) reach R² = ${f(x12.carrierR2)}, ${f(x12.bpc)} bpc in-sample.`,
    `The lowest held-out bpc is ${best.set}'s ${f(best.heldoutBpc)}: ${timingLeads ? 'the timing features are the best description of the carrier' : 'recent byte identity describes the carrier better than the timing features'}.`,
    `So, to the paper's hope that "the carrier dynamics should be reconstructible from these simple rules": ${verdict}, on this model.`,
  ].join(' ');
}

interface PatternUnit { unit: number; psCount: number; accuracy: number; rows: { cell: string; onCount: number; positions: number }[] }

/** Q2: what byte sets do the pattern-sensitive units detect? */
export function q2Words(pt: { units: PatternUnit[]; meanAccuracy: number; seenBytes: number; cells: number; positions: { count: number } }): string {
  const units = pt.units;
  const names = units.map((u) => `h${u.unit} (${u.psCount} PS positions, table accuracy ${pct(u.accuracy)})`).join(', ');
  // How much the on-set changes with the carrier: cells where the unit is on for some but not all seen bytes.
  const mixed = units.map((u) => u.rows.filter((r) => r.onCount > 0 && r.onCount < pt.seenBytes).length);
  return [
    `The units with the most pattern-sensitive positions are ${names}.`,
    `Over the ${pt.cells} word-length × in-tag cells their tables switch on a proper subset of the ${pt.seenBytes} seen bytes in ${mixed.join(', ')} cells respectively` +
      (Math.min(...mixed) >= 2 ? ', and the subset changes with the cell: what a unit detects is set by the timing state.' : '.'),
    `As a complete description, sign(ĉ + Wx[x_t]) with those cell carriers gets the sign of S right at ${pct(pt.meanAccuracy)} of neuron-steps averaged over all units` +
      (pt.meanAccuracy < 0.95 ? ': the tables are a partial account, much of the carrier varies within a word-length × in-tag cell.' : ': the tables nearly complete the picture.'),
  ].join(' ');
}

interface Level { level: string; bytes: number; numbers: number; bpc: number }

/** Q4: can the weights be written back from a description? */
export function q4Words(rb: { levels: Level[]; unigramEntropy: number }, trainedBpc: number): string {
  const full = rb.levels.find((l) => l.level === 'full');
  const marg = rb.levels.find((l) => l.level === 'marginal');
  const rules = rb.levels.filter((l) => l.level.startsWith('rules_'));
  const best = rules.reduce((a, b) => (b.bpc < a.bpc ? b : a), rules[0]);
  const wt = rules.find((l) => l.level === 'rules_wl_tag');
  const parts = [
    full ? `Written back from the full description (${full.numbers} numbers, ${full.bytes} bytes) the RNN gets ${f(full.bpc, 6)} bpc, the trained ${f(trainedBpc, 6)}` + (Math.abs(full.bpc - trainedBpc) <= 1e-6 ? ' (equal to 1e-6).' : ` (differs by ${(full.bpc - trainedBpc).toExponential(2)}).`) : '',
    marg ? `The marginal description (${marg.numbers} free numbers) gives ${f(marg.bpc, 4)} bpc, the data's unigram entropy ${f(rb.unigramEntropy, 4)}.` : '',
  ];
  if (best) {
    parts.push(
      `Between them, the best rule level is ${best.level} (${best.numbers} numbers, ${best.bytes} bytes): ${f(best.bpc)} bpc, a gap of ${f(best.bpc - trainedBpc)} bpc to the trained model, the paper's "honest measure of remaining mystery".` +
        (wt ? ` From word length and in-tag alone (${wt.level}, ${wt.numbers} numbers) the rebuilt RNN gets ${f(wt.bpc)} bpc.` : ''),
      `These rule rebuilds are a first attempt (feature units, least-squares carrier rows, Wx from the pattern bins, a readout refitted on the data); the best is ${f(best.bpc / trainedBpc, 1)} times the trained bpc` +
        (best.bpc > 2 * trainedBpc ? ', so most of what the trained weights compute is not yet in a description short of all of them.' : ', close to the trained model.'),
    );
  }
  return parts.filter(Boolean).join(' ');
}
