// Runs each browser flow in tests/ with its own server, data directory, database and headless
// Chromium, as steps that each continue from the page the previous step left open. Also
// exports the page helpers that the flows share.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CHROMIUM_PATH, launchChromium, openContext } from './browser.js';
import { createDatabase, ensurePostgresRunning, parseLoopbackUrl } from './postgres.js';
import { OUTPOST_BIN, startServer } from './server.js';
import { IN_CI, isExecutable, listMissingTools } from './tools.js';

/** How long a flow waits for a message in the outbox, in milliseconds. */
export const MAIL_TIMEOUT_MS = 15_000;

const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 120_000;

const DATABASE_URL = process.env.OUTPOST_DATABASE_URL || undefined;

const POSTGRES_TOOLS = [
  { name: 'psql', path: null, debianPackage: 'postgresql-client' },
  { name: 'pg_isready', path: null, debianPackage: 'postgresql-client' },
];

/**
 * Declares a flow named `title` with node:test's describe. `defineSteps` receives
 * { step, openPage, addCleanup } and declares the steps in order:
 *
 * - `step(name, body)` declares one step. `body` gets { page, server, outbox, workDir },
 *   where `page` is the page the flow opened at the start and `server` is { url, stop }.
 *   Once a step fails, later steps are skipped.
 * - `openPage(label)`, called from a step, opens a page in a new browser context, so it
 *   shares no cookies with the other pages. `label` names it in failure messages and
 *   screenshot files.
 * - `addCleanup(callback)`, called from a step, registers an async callback that the flow
 *   runs after its last step, before it closes the browser and stops the server. Use it to
 *   stop a process that a step started, also when a later step fails. A callback that throws
 *   fails the flow and keeps the temporary folder.
 *
 * Options: `tools` lists the external programs the flow needs besides chromium (and psql and
 * pg_isready on PostgreSQL) in the form that listMissingTools takes. `serverSettings`
 * contains OUTPOST_* variables for the server. `stepTimeoutMs` limits each step, in
 * milliseconds (default 60 s).
 */
export function describeBrowserFlow(title, { tools = [], serverSettings = {}, stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS }, defineSteps) {
  const requiredTools = [
    { name: 'chromium', path: CHROMIUM_PATH, debianPackage: 'chromium' },
    ...tools,
    ...(DATABASE_URL === undefined ? [] : POSTGRES_TOOLS),
  ];
  const missingTools = listMissingTools(requiredTools);
  // Outside CI a missing tool skips the flow. With CI=true the before hook fails on it instead.
  const skipReason = missingTools.length > 0 && !IN_CI ? missingTools.join('; ') : false;

  describe(title, { skip: skipReason }, () => {
    let workDir;
    let outbox;
    let database;
    let server;
    let browser;
    // Every open page as { label, page, blockedUrls }. The first one, with label null, is the
    // page that steps receive.
    const pages = [];
    // Callbacks registered with addCleanup, run newest first.
    const cleanups = [];
    let setupFinished = false;
    let failedStep = null;

    async function openPage(label) {
      const opened = await openContext(browser, server.url);
      const page = await opened.context.newPage();
      pages.push({ label, page, blockedUrls: opened.blockedUrls });
      return page;
    }

    function addCleanup(callback) {
      cleanups.push(callback);
    }

    before(async () => {
      assert.deepEqual(missingTools, [], `CI=true and required tools are missing: ${missingTools.join('; ')}`);
      assert.ok(isExecutable(OUTPOST_BIN), `outpost binary not found or not executable at ${OUTPOST_BIN}; build it with 'cargo build --release -p outpost' or set OUTPOST_BIN`);

      workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-e2e-'));
      const dataDir = path.join(workDir, 'data');
      const profileDir = path.join(workDir, 'chromium-profile');
      mkdirSync(dataDir);
      mkdirSync(profileDir);
      outbox = path.join(dataDir, 'outbox');

      let serverDatabaseUrl;
      if (DATABASE_URL !== undefined) {
        const adminUrl = parseLoopbackUrl(DATABASE_URL);
        await ensurePostgresRunning(adminUrl);
        database = await createDatabase(adminUrl);
        serverDatabaseUrl = database.url.href;
      }

      server = await startServer({
        dataDir,
        databaseUrl: serverDatabaseUrl,
        logPath: path.join(workDir, 'server.log'),
        settings: serverSettings,
      });
      browser = await launchChromium(profileDir);
      await openPage(null);
      setupFinished = true;
    }, { timeout: SETUP_TIMEOUT_MS });

    after(async () => {
      const errors = [];
      for (const callback of cleanups.reverse()) {
        try {
          await callback();
        } catch (error) {
          errors.push(error);
        }
      }
      await browser?.close().catch((error) => errors.push(error));
      await server?.stop().catch((error) => errors.push(error));
      await database?.drop().catch((error) => errors.push(error));

      if (workDir !== undefined) {
        if (setupFinished && failedStep === null && errors.length === 0) {
          rmSync(workDir, { recursive: true, force: true });
        } else {
          process.stderr.write(`Kept the server log, data directory and browser profile in ${workDir}\n`);
        }
      }
      if (errors.length > 0) {
        throw errors[0];
      }
    });

    /** Saves a screenshot of each open page next to the kept server log. */
    async function saveFailureScreenshots(stepName) {
      for (const { label, page } of pages) {
        const file = path.join(workDir, label === null ? `failed ${stepName}.png` : `failed ${stepName} (${label}).png`);
        try {
          await page.screenshot({ path: file, fullPage: true });
          process.stderr.write(`Saved a screenshot of the failed step in ${file}\n`);
        } catch (error) {
          process.stderr.write(`Failed to save the screenshot ${file}: ${error.message}\n`);
        }
      }
    }

    function step(name, body) {
      test(name, { timeout: stepTimeoutMs }, async (t) => {
        if (failedStep !== null) {
          t.skip(`the earlier step "${failedStep}" failed`);
          return;
        }
        try {
          await body({ page: pages[0].page, server, outbox, workDir });
          for (const { label, blockedUrls } of pages) {
            const requester = label === null ? 'pages' : `pages of the ${label} browser context`;
            assert.deepEqual(blockedUrls, [], `${requester} requested URLs outside the test server; they were blocked`);
          }
        } catch (error) {
          failedStep = name;
          await saveFailureScreenshots(name);
          throw error;
        }
      });
    }

    defineSteps({ step, openPage, addCleanup });
  });
}

/** Clicks `locator` and waits for the page load that the click starts. */
export async function clickAndWaitForLoad(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
}

/** Returns the path of the page's URL, without the query, which may contain a token. */
export function currentPath(page) {
  return new URL(page.url()).pathname;
}

/** Fails unless the page is at `expected`, quoting the page's text to show where it went instead. */
export async function assertPath(page, expected, message) {
  const actual = currentPath(page);
  if (actual === expected) {
    return;
  }
  const pageText = await page.locator('main').innerText().catch((error) => `(failed to read the page: ${error.message})`);
  assert.equal(actual, expected, `${message}. The page at ${actual} shows: ${JSON.stringify(pageText.slice(0, 400))}`);
}

/** Returns the text of the page's level-1 heading. */
export function headingText(page) {
  return page.getByRole('heading', { level: 1 }).innerText();
}

/** Reads a table's body rows as objects keyed by the column headers' text. */
export async function readTableRows(table) {
  const headers = await table.getByRole('columnheader').allInnerTexts();
  const rows = [];
  for (const row of await table.locator('tbody tr').all()) {
    const cells = await row.getByRole('cell').allInnerTexts();
    rows.push(Object.fromEntries(headers.map((header, index) => [header.trim(), cells[index]?.trim()])));
  }
  return rows;
}
