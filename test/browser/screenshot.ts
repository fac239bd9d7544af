// npm run screenshot -- [LABEL]: a screenshot of reports/<LABEL>/viewer.html, written
// beside it as viewer.png (report.md links it). A browser cannot run inside a pipeline
// stage (stages are pure), so this is a separate step. With no label: every report
// folder that has a viewer.html. Needs chromium (CHROMIUM_PATH or the PATH). It opens the
// viewer at the paper's example, viewer.html#t=29&unit=8.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findChromium, launchChromium } from './chromium.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const reports = path.join(root, 'reports');

async function main(labels: string[]): Promise<number> {
  const found = findChromium();
  if (!('path' in found)) {
    process.stderr.write(`error: ${found.reason}\nhint: apt-get install -y chromium, or set CHROMIUM_PATH\n`);
    return 2;
  }
  const all = fs.existsSync(reports) ? fs.readdirSync(reports).filter((l) => fs.existsSync(path.join(reports, l, 'viewer.html'))) : [];
  const todo = labels.length ? labels : all;
  for (const l of todo) {
    if (!fs.existsSync(path.join(reports, l, 'viewer.html'))) {
      process.stderr.write(`error: no reports/${l}/viewer.html\nhint: npx tsx pipeline.ts report (it builds the viewer), then name one of: ${all.join(', ') || '(none yet)'}\n`);
      return 2;
    }
  }
  if (!todo.length) {
    process.stderr.write('error: no report has a viewer.html yet\nhint: npx tsx pipeline.ts report\n');
    return 2;
  }
  const browser = await launchChromium(found.path);
  try {
    for (const l of todo) {
      const page = await browser.context.newPage();
      await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
      // The paper's example: position 29 and unit 8 (a deep link, as the report's §5.4 rows give).
      await page.goto(`${pathToFileURL(path.join(reports, l, 'viewer.html')).href}#t=29&unit=8`);
      await page.waitForSelector('body[data-ready="1"]');
      const out = path.join(reports, l, 'viewer.png');
      await page.screenshot({ path: out, fullPage: true });
      process.stdout.write(`${path.relative(process.cwd(), out)}\n`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
