// Headless Chromium from Debian's package, driven by playwright-core, with an axe-core
// accessibility check for each page a test visits.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Command-line flags of every Chromium run. Playwright adds none of its own (see launchChromium). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const AXE_SCRIPT_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core impact levels that fail a test. */
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Launches headless Chromium with CHROMIUM_FLAGS and the profile folder `profileDir`.
 * `ignoreDefaultArgs: true` drops Playwright's default flags, so the browser gets only
 * CHROMIUM_FLAGS plus the three switches that a headless run under Playwright needs:
 * --headless, --user-data-dir and --remote-debugging-pipe (Playwright's connection).
 */
export function launchChromium(profileDir) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_FLAGS, '--headless', `--user-data-dir=${profileDir}`, '--remote-debugging-pipe'],
  });
}

/**
 * Opens a browser context whose pages may load only from `origin`. Any other request is
 * aborted and its URL added to the returned `blockedUrls`, so a test can fail on it.
 * `bypassCSP` lets axe-core be injected despite the server's script-src 'self' policy.
 */
export async function openContext(browser, origin) {
  const context = await browser.newContext({ bypassCSP: true });
  const blockedUrls = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) {
      return route.continue();
    }
    blockedUrls.push(url);
    return route.abort('blockedbyclient');
  });
  return { context, blockedUrls };
}

function formatViolation(violation) {
  const nodes = violation.nodes
    .map((node) => `    at ${node.target.join(' ')}\n      ${node.failureSummary.replace(/\n/g, '\n      ')}`)
    .join('\n');
  return `  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n${nodes}`;
}

/**
 * Runs axe-core on the page's current document and fails when it finds a violation of
 * impact "serious" or "critical", listing each one with its elements.
 */
export async function assertAccessible(page) {
  await page.addScriptTag({ path: AXE_SCRIPT_PATH });
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => ({ target: node.target.map(String), failureSummary: node.failureSummary ?? '' })),
    }));
  });

  const blocking = violations.filter((violation) => BLOCKING_IMPACTS.has(violation.impact));
  // The path alone names the page; the query may hold a reset token.
  const where = `${new URL(page.url()).pathname} ("${await page.title()}")`;
  assert.equal(
    blocking.length,
    0,
    `axe-core found ${blocking.length} serious or critical accessibility violation(s) on ${where}:\n${blocking.map(formatViolation).join('\n')}`,
  );
}
