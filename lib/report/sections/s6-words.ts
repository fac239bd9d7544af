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

export interface ScoredLevel { level: string; set: string | null; readout: string | null; bytes: number; numbers: number; bits: number; bpc: number; gap: number; klTrain: number; signTrain: number | null; heldoutBpc: number | null; worthBits: 0 | 1 }
export interface RefRow { name: string; what: string; bits: number; bpc: number | null; heldoutBpc: number | null }
export interface Scores { levels: ScoredLevel[]; refs: RefRow[]; trainedBpc: number; trainedHeldoutBpc: number | null; unigramEntropy: number; compressor: string }

const bitsText = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} Mbit` : b >= 1e4 ? `${(b / 1e3).toFixed(0)} kbit` : `${b} bits`);

/** What a level's description holds, in words. */
export function levelContents(l: { level: string; set: string | null; readout: string | null }): string {
  if (l.level === 'marginal') return 'the counts of the target bytes (by = their logs); no recurrence';
  if (l.level === 'full') return 'every weight, each as the shortest decimal that reads back as the same float32';
  if (l.set !== null && l.level.endsWith('_linear')) {
    return `feature units computing ${l.set}; for the most pattern-sensitive units of the model, one per remaining unit: its carrier as a linear rule of the features (a Wh row and bh) and its Wx on the seen bytes (the pattern tables); a readout fitted in describe on these states, written rounded`;
  }
  if (l.set !== null) {
    const states = `feature units computing ${l.set}; for the most pattern-sensitive units of the model, one per remaining unit: cell carriers, the cells' sizes and Wx bins over the seen bytes (the pattern tables)`;
    return l.readout === 'fit' ? `${states}; a readout fitted in describe on these states, written rounded` : `${states}; the model's own Wy, by for those units, rounded`;
  }
  return 'a description edited by hand';
}

/** Q4: can the weights be written back from a description, and is it worth its bits? */
export function q4Words(sc: Scores): string {
  const full = sc.levels.find((l) => l.level === 'full');
  const marg = sc.levels.find((l) => l.level === 'marginal');
  const rules = sc.levels.filter((l) => l.set !== null);
  const best = rules.length ? rules.reduce((a, b) => (b.bpc < a.bpc ? b : a)) : null;
  const worth = sc.levels.filter((l) => l.worthBits === 1).map((l) => l.level);
  const refs = sc.refs.filter((r) => r.bpc !== null);
  const bestRef = refs.length ? refs.reduce((a, b) => (b.bpc! < a.bpc! ? b : a)) : null;
  const parts = [
    full ? `Written back from the full description (${full.numbers} numbers, ${bitsText(full.bits)}) the RNN gets ${f(full.bpc, 6)} bpc, the trained ${f(sc.trainedBpc, 6)}, KL ${full.klTrain.toExponential(1)} bits.` : '',
    marg ? `The marginal description (${marg.numbers} numbers, ${bitsText(marg.bits)}) gives ${f(marg.bpc, 4)} bpc, the unigram entropy ${f(sc.unigramEntropy, 4)}.` : '',
    bestRef ? `The training text as its own description costs ${bitsText(bestRef.bits)} (${sc.compressor}), and a fixed procedure on it alone reaches ${f(bestRef.bpc!)} bpc (ref_${bestRef.name}).` : '',
    `Worth their bits (no reference has both no more bits and no higher bpc): ${worth.length ? worth.join(', ') : 'no level'}.`,
  ];
  if (best) {
    parts.push(
      `The best rule level, ${best.level}, gets ${f(best.bpc)} bpc at ${bitsText(best.bits)}: a gap of ${f(best.gap)} bpc to the trained model at ${bestRef ? `${(best.bits / bestRef.bits).toFixed(0)} times the bits of the text it explains` : 'those bits'}` +
        (best.signTrain !== null ? `, with ${(100 * best.signTrain).toFixed(1)}% of its kept units' signs as in the model` : '') +
        (best.worthBits ? ', and it is worth its bits.' : '; it is not worth its bits: a reference built from the text alone predicts as well or better with fewer bits.'),
    );
  }
  if (sc.trainedHeldoutBpc !== null) {
    const kn = sc.refs.find((r) => r.name === 'kn' && r.heldoutBpc !== null);
    parts.push(
      `On the held-out text the trained model gets ${f(sc.trainedHeldoutBpc)} bpc` +
        (sc.trainedHeldoutBpc >= 8 ? ', worse than a uniform guess (8): it has memorised its training text, so what the descriptions reproduce is that memory' : sc.trainedHeldoutBpc > 6 ? ', near a uniform guess (8): it has largely memorised its training text' : '') +
        (kn ? `; counting alone (ref_kn, ${kn.what.replace(/ \(held-out only\)$/, '')}) gets ${f(kn.heldoutBpc!)} bpc there.` : '.'),
    );
  } else parts.push('The held-out figures are missing: the data stage gives no held-out text.');
  return parts.filter(Boolean).join(' ');
}
