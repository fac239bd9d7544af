// The browser bundles of vega, vega-lite and vega-embed that viewer.html and the
// interactive plots inline (UMD builds: no imports, no network). Stages declare them as
// external files (their content is then in the stage's key, and reading them is the
// stage's one allowed I/O).

import { createRequire } from 'node:module';
import path from 'node:path';
import type { ExternalFile } from '../../engine/types.ts';

const require = createRequire(import.meta.url);

export const VEGA_BUNDLES = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

/** A file inside an installed package (its "exports" map hides the build folder from resolve). */
function packageFile(pkg: string, rel: string): string {
  const main = require.resolve(pkg);
  const marker = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
  const at = main.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot locate the ${pkg} package (resolved to ${main})\nhint: run npm ci`);
  return path.join(main.slice(0, at + marker.length), rel);
}

/** The three bundles as external files of a stage. */
export function vegaBundleFiles(): ExternalFile[] {
  return VEGA_BUNDLES.map(([name, file]) => ({ name, path: packageFile(name, file), hint: 'run npm ci (vega, vega-lite and vega-embed are dependencies)' }));
}

/** Read the bundles a stage declared (its externals), by name. */
export async function readVegaBundles(externals: Record<string, ExternalFile>): Promise<Record<string, string>> {
  const { readFileSync } = await import('node:fs');
  return Object.fromEntries(VEGA_BUNDLES.map(([name]) => [name, readFileSync(externals[name].path, 'utf8')]));
}

/**
 * The three bundles as <script> elements, in load order; `what` names the page in the error
 * when one is missing (a page without them would be blank).
 */
export function bundleScripts(libs: Record<string, string>, what: string): string[] {
  return VEGA_BUNDLES.map(([name]) => {
    if (typeof libs[name] !== 'string' || !libs[name].length) throw new Error(`${what}: the ${name} bundle is missing\nhint: run npm ci`);
    return `<script>${inlineScript(libs[name])}</script>`;
  });
}

/** No network: a page that tries to load anything beyond itself is refused by the browser. */
export const NO_NETWORK_CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">`;

/** A bundle safe inside a <script> element. */
export function inlineScript(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script');
}

/** JSON safe inside a <script> element: no "</script", no "<!--". */
export function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
