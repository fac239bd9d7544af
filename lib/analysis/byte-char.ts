// A byte as a readable character, for tables and JSON: printable ASCII as itself,
// newline and tab as \n and \t, every other byte as \xNN.

export function byteChar(b: number): string {
  if (b === 0x0a) return '\\n';
  if (b === 0x09) return '\\t';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
}
