// Debian's chromium driven by playwright-core (no browser download): where to find it,
// and how to launch it on a CI machine that runs as root with no display.
// CHROMIUM_PATH wins; otherwise the first of chromium, chromium-browser on the PATH.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';

export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string } | { reason: string } {
  if (env.CHROMIUM_PATH) {
    return fs.existsSync(env.CHROMIUM_PATH) ? { path: env.CHROMIUM_PATH } : { reason: `CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist` };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const p = path.join(dir, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return { path: p };
      } catch {
        /* next */
      }
    }
  }
  return { reason: 'no chromium found: set CHROMIUM_PATH or install it (apt-get install -y chromium)' };
}

/** Flags for a headless run as root, with nothing phoning home. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A persistent context on a fresh, temporary profile; `close` also deletes the profile. */
export async function launchChromium(executablePath: string): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };
