// The metric ids docs/definitions.md writes, read as patterns (for the doc's tests).

/** Every id or id pattern the doc writes in backquotes, as a regular expression. */
export function idPatterns(doc: string): RegExp[] {
  const spans = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  return spans
    .filter((s) => /^[A-Za-z0-9_.<>{},()+-]+$/.test(s) && /[._]/.test(s))
    .map((s) => {
      let re = '';
      for (let i = 0; i < s.length; ) {
        if (s[i] === '<') {
          const end = s.indexOf('>', i);
          re += '[A-Za-z0-9_-]+';
          i = end + 1;
        } else if (s[i] === '{') {
          const end = s.indexOf('}', i);
          re += `(?:${s.slice(i + 1, end).split(',').map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
          i = end + 1;
        } else {
          re += s[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          i++;
        }
      }
      return new RegExp(`^${re}$`);
    });
}

/** Whether an id is written in the doc, as itself or by a pattern. */
export function definedIn(doc: string): (id: string) => boolean {
  const patterns = idPatterns(doc);
  return (id) => patterns.some((re) => re.test(id));
}
