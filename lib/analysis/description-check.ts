// Reading a description back (docs/definitions.md §6.3): the checks every rebuild relies on,
// in a module of its own with no imports, so that the describe stage's declaration can
// check a hand-edited description file before anything runs without loading the kernels.

const V = 256;

export interface Description {
  header: Record<string, any>;
  body: Record<string, any>;
}

/** A description that cannot be read back. A usage error (the CLI exits 2); the message ends with a hint: line. */
export class DescriptionError extends Error {
  readonly reason = 'usage';
}

/**
 * Read a description back from its text, checking what a rebuild relies on: valid JSON, a
 * header with the level and H, every numeric leaf finite (JSON has no NaN, but a text
 * edited by hand may hold one, or a 1e999 that parses as Infinity), and the arrays each
 * level's rebuild reads present, numeric and of matching lengths. Throws one message with
 * a hint; `where` names the description (its level, or the file it came from).
 */
export function parseDescription(text: string, where: string): Description {
  const fail = (why: string): never => {
    throw new DescriptionError(`description ${where}: ${why}\nhint: a description must be the JSON that describe writes (edit numbers, keep them finite and the shapes as they are), or drop the edited file to use the computed one`);
  };
  let d: any;
  try {
    d = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!d || typeof d !== 'object' || !d.header || typeof d.header !== 'object' || !d.body || typeof d.body !== 'object') fail('needs an object with "header" and "body"');
  const H = d.header.H;
  if (typeof d.header.level !== 'string') fail('header.level must be a string');
  if (!Number.isInteger(H) || H < 1) fail(`header.H must be a positive integer, got ${JSON.stringify(H)}`);
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(`${path} is ${v}, not a finite number`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(d, 'description');
  const nums = (v: unknown, path: string, len?: number): void => {
    if (!Array.isArray(v)) fail(`${path} must be an array of numbers`);
    const a = v as unknown[];
    a.forEach((x, i) => {
      if (typeof x !== 'number') fail(`${path}[${i}] is ${JSON.stringify(x)}, not a finite number`);
    });
    if (len !== undefined && a.length !== len) fail(`${path} has ${a.length} numbers, expected ${len}`);
  };
  const b = d.body;
  const level: string = d.header.level;
  if (level === 'full') {
    nums(b.Wx, 'body.Wx', H * V);
    nums(b.Wh, 'body.Wh', H * H);
    nums(b.bh, 'body.bh', H);
    nums(b.Wy, 'body.Wy', V * H);
    nums(b.by, 'body.by', V);
  } else if (level === 'marginal') {
    nums(b.bytes, 'body.bytes');
    nums(b.counts, 'body.counts', b.bytes.length);
    b.bytes.forEach((x: number, i: number) => (Number.isInteger(x) && x >= 0 && x < V ? 0 : fail(`body.bytes[${i}] = ${x} is not a byte 0..255`)));
    if (!b.counts.some((c: number) => c > 0) || b.counts.some((c: number) => c < 0)) fail('body.counts must be ≥ 0 with a positive sum');
  } else if (level.startsWith('rules_')) {
    if (typeof d.header.set !== 'string') fail('header.set must name a feature set');
    const rb = d.header.rebuild;
    const linear = d.header.form === 'linear';
    if (!rb || !(rb.gain > 0) || (!linear && !(rb.margin >= 0 && rb.ridge >= 0))) fail('header.rebuild must give gain > 0 (and, for cell carriers, margin ≥ 0 and ridge ≥ 0)');
    const bytes = (v: number[], path: string) => v.forEach((x, i) => Number.isInteger(x) && x >= 0 && x < V ? 0 : fail(`${path}[${i}] = ${x} is not a byte 0..255`));
    if (!linear) {
      if (!Array.isArray(b.cells) || b.cells.length < 1) fail('body.cells must be a non-empty array of cell keys');
      b.cells.forEach((k: unknown, i: number) => nums(k, `body.cells[${i}]`));
      nums(b.cellCount, 'body.cellCount', b.cells.length);
    }
    nums(b.seen, 'body.seen');
    bytes(b.seen, 'body.seen');
    if (!Array.isArray(b.units) || b.units.length > H) fail(`body.units must be an array of at most H = ${H} units`);
    b.units.forEach((u: any, r: number) => {
      if (!Number.isInteger(u?.unit) || u.unit < 0 || u.unit >= H) fail(`body.units[${r}].unit must be a unit index 0..${H - 1}`);
      if (linear) {
        nums(u.row, `body.units[${r}].row`, b.units[0].row?.length);
        nums(u.wx, `body.units[${r}].wx`, b.seen.length);
      } else {
        nums(u.carrier, `body.units[${r}].carrier`, b.cells.length);
        nums(u.wxBin, `body.units[${r}].wxBin`, b.seen.length);
      }
    });
    const ro = b.readout;
    if (!ro || typeof ro !== 'object') fail('body.readout is missing');
    const cols = d.header.readout?.columns === 'all' ? H : b.units.length;
    if (!Array.isArray(ro.Wy) || ro.Wy.length !== b.seen.length) fail(`body.readout.Wy must have one row per seen byte (${b.seen.length})`);
    ro.Wy.forEach((row: unknown, i: number) => nums(row, `body.readout.Wy[${i}]`, cols));
    nums(ro.by, 'body.readout.by', b.seen.length);
    if (typeof ro.byOther !== 'number') fail('body.readout.byOther must be a number');
  } else fail(`unknown level "${level}" (marginal, rules_<set> or full)`);
  return d as Description;
}
