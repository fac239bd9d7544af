// Placeholder until the WebAssembly kernel exists.
import type { Backend, BackendFactory } from './train.ts';
export const wasmBackend: (...a: Parameters<BackendFactory>) => Backend | null = () => null;
