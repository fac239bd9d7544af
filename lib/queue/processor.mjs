// The sandboxed processor BullMQ forks for each worker slot. BullMQ loads a processor by
// file path with import(); our processor is TypeScript, so this plain bootstrap registers
// tsx's ESM loader first (a forked or threaded worker does not inherit it reliably; see
// PERFORMANCE.md's traps) and then loads job.ts.

import { register } from 'tsx/esm/api';

register();
const mod = await import('./job.ts');
export default mod.default;
