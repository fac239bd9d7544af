import { describe, expect, it } from 'vitest';
import { byteChar } from '../../lib/analysis/byte-char.ts';

describe('byteChar', () => {
  it('shows printable ASCII as itself, \\n and \\t escaped, other bytes as \\xNN', () => {
    expect(['m', ' ', '~'].map((c) => byteChar(c.charCodeAt(0)))).toEqual(['m', ' ', '~']);
    expect([10, 9, 0, 0x7f, 0xe9].map(byteChar)).toEqual(['\\n', '\\t', '\\x00', '\\x7f', '\\xe9']);
  });
});
