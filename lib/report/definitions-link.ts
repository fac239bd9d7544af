// Links from a report to the project's definitions, docs/definitions.md, which keeps the
// paper's section numbers (§3.1 … §6.5) and gives each section an anchor `s<a>-<b>`
// ("s5-4"), `s<a>` for a whole section, `sR` for the report and `sR-2` for the audit.
//
// Reports live at reports/<label>/report.md inside the project, so the definitions are
// two folders up: the relative link works in a checkout, in an editor's preview and on a
// code host's file view, and needs no server.

/** The definitions file, relative to a report under reports/<label>/. */
export const DEFINITIONS_HREF = '../../docs/definitions.md';

// Tables and metrics whose definition is not the section the paper prints them in: the §6
// answers all sit in the paper's §6.2 (its open questions) and the paper prints Table 2 in
// its §5.3, while the definitions number them as the questions and sections they answer.
const BY_ID: [RegExp, string][] = [
  [/^timing_carrier/, '6.1'],
  [/^pattern_table/, '6.2'],
  [/^(rebuild|describe)/, '6.3'],
  [/^(scaling|q3)/, '6.4'],
  [/^kn/, '6.5'],
  [/^answers_6_2/, '6'],
  [/^table2_carrier_pattern$/, '5.2'],
  [/^(decomposition\.|pos29_)/, '5.4'],
];

/** The anchor in docs/definitions.md for a table or metric (by its id first, else its paper section). */
export function definitionAnchor(section: string, id?: string): string | null {
  const byId = id ? BY_ID.find(([re]) => re.test(id))?.[1] : undefined;
  const num = byId ?? /§(\d+(?:\.\d+)?)/.exec(section)?.[1];
  return num ? `s${num.replace('.', '-')}` : null;
}

/** `[§x.y](../../docs/definitions.md#sx-y)`, or null when the section has no number. */
export function definitionLink(section: string, id?: string): string | null {
  const a = definitionAnchor(section, id);
  return a ? `[§${a.slice(1).replace('-', '.')}](${DEFINITIONS_HREF}#${a})` : null;
}
