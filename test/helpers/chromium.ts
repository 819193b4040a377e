import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * (never Playwright's browser download). Locally a missing browser skips the test file
 * (scripts/test.sh warned); on CI it fails the file.
 */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the browser tests write their screenshots. */
export const BROWSER_OUTPUT = path.resolve(__dirname, '..', '..', 'test-output', 'browser');

const missing = !existsSync(CHROMIUM) || process.env.BROWSER_AVAILABLE === '0';
const hint = `run \`bash scripts/chromium.sh\` (Debian package) to enable the browser tests`;

/** The `skip` option of a browser test: a reason locally without Chromium, else false. */
export const skipWithoutChromium: string | false =
  missing && process.env.CI !== 'true' ? `no Chromium at ${CHROMIUM}: ${hint}` : false;

/** Throws when there is no browser (on CI: the file is not skipped). */
export function requireChromium(): void {
  if (missing) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: ${hint}`);
}

/** Starts the browser (see {@link requireChromium}). Call only when not skipped. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-proxy-server',
      ...extraArgs,
    ],
  });
}
