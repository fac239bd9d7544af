// Which WebAssembly training kernel this runtime would load (asm/rnn.ts, built by
// `npm run build:wasm`): build/rnn-relaxed.wasm (relaxed-SIMD fused multiply-adds) when
// the runtime accepts it, else build/rnn.wasm. Light on purpose (no kernel code): the
// train stage asks it for its external file at every pipeline run, and the two binaries
// round differently, so the file that will run must be the one in the cache key. (Relaxed
// SIMD leaves the fusing to the machine: on an x86 CPU without FMA, V8 multiplies and adds
// instead, so the relaxed binary's bits are those of the machine's kind, as the key does
// not say; every x86 CPU of the last decade has FMA.)

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

export type WasmVariant = 'wasm-relaxed' | 'wasm-simd';

export const WASM_FILES: Record<WasmVariant, string> = {
  'wasm-relaxed': fileURLToPath(new URL('../../build/rnn-relaxed.wasm', import.meta.url)),
  'wasm-simd': fileURLToPath(new URL('../../build/rnn.wasm', import.meta.url)),
};

let relaxed: boolean | undefined;

/**
 * Whether this runtime compiles relaxed SIMD (checked on the built binary). Node 20 needs
 * `--experimental-wasm-relaxed-simd`, which this sets (before any relaxed module is
 * compiled) only when the binary does not validate without it.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed === undefined) {
    relaxed = false;
    const file = WASM_FILES['wasm-relaxed'];
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      relaxed = WebAssembly.validate(bytes);
      if (!relaxed) {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
        relaxed = WebAssembly.validate(bytes);
      }
    }
  }
  return relaxed;
}

/** The variant 'auto' training picks (when H % 16 = 0), or null when neither binary is usable. */
export function preferredWasm(): WasmVariant | null {
  if (relaxedSimdAvailable()) return 'wasm-relaxed';
  return existsSync(WASM_FILES['wasm-simd']) ? 'wasm-simd' : null;
}
