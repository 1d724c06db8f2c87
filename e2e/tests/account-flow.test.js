// One user's path through the portal, step by step in a real browser: sign-up, billing
// details, password change, sign-in, and a password reset through the emailed link.
// Each step continues from the page the previous step left open.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CHROMIUM_PATH, assertAccessible, launchChromium, openContext } from '../lib/browser.js';
import { listMessages, waitForMessageLine } from '../lib/mail.js';
import { createDatabase, ensurePostgresRunning, parseLoopbackUrl } from '../lib/postgres.js';
import { OUTPOST_BIN, startServer } from '../lib/server.js';
import { IN_CI, isExecutable, listMissingTools } from '../lib/tools.js';

const DATABASE_URL = process.env.OUTPOST_DATABASE_URL || undefined;

const REQUIRED_TOOLS = [
  { name: 'chromium', path: CHROMIUM_PATH, debianPackage: 'chromium' },
  ...(DATABASE_URL === undefined
    ? []
    : [
        { name: 'psql', path: null, debianPackage: 'postgresql-client' },
        { name: 'pg_isready', path: null, debianPackage: 'postgresql-client' },
      ]),
];
const missingTools = listMissingTools(REQUIRED_TOOLS);
// Outside CI a missing tool skips the suite. With CI=true the before hook fails on it instead.
const skipReason = missingTools.length > 0 && !IN_CI ? missingTools.join('; ') : false;

const STEP_TIMEOUT_MS = 60_000;
const SETUP_TIMEOUT_MS = 120_000;
const MAIL_TIMEOUT_MS = 15_000;

const suffix = randomBytes(4).toString('hex');
const EMAIL = `Ops+${suffix}@Example.COM`;
const FIRST_PASSWORD = 'copper kettle river lantern';
const SECOND_PASSWORD = 'violet harbor tractor puzzle';
const THIRD_PASSWORD = 'meadow quartz bicycle thunder';

const BILLING = {
  name: 'Nordlicht IT GmbH – Zürich',
  addressLine1: 'Bahnhofstraße 12',
  postalCode: '80335',
  city: 'München',
  countryName: 'Germany',
  countryCode: 'DE',
  vatNumber: 'DE123456789',
  billingEmail: `rechnung+${suffix}@nordlicht.example`,
};
const BAD_VAT_NUMBER = 'DE12';

const LABELS = {
  name: 'Name (company or person)',
  addressLine1: 'Address line 1',
  postalCode: 'Postal code',
  city: 'City',
  country: 'Country',
  taxId: 'Tax ID (VAT number in the EU)',
  billingEmail: 'Billing email',
};

describe('account portal flow', { skip: skipReason }, () => {
  let workDir;
  let outbox;
  let database;
  let server;
  let browser;
  let page;
  let blockedUrls;
  let setupFinished = false;
  let failedStep = null;
  let resetLink;

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

    server = await startServer({ dataDir, databaseUrl: serverDatabaseUrl, logPath: path.join(workDir, 'server.log') });
    browser = await launchChromium(profileDir);
    const opened = await openContext(browser, server.url);
    blockedUrls = opened.blockedUrls;
    page = await opened.context.newPage();
    setupFinished = true;
  }, { timeout: SETUP_TIMEOUT_MS });

  after(async () => {
    const errors = [];
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

  /**
   * Declares one step of the flow. Once a step fails, later steps are skipped, because
   * each one starts from the page the previous step left open.
   */
  function step(name, body) {
    test(name, { timeout: STEP_TIMEOUT_MS }, async (t) => {
      if (failedStep !== null) {
        t.skip(`the earlier step "${failedStep}" failed`);
        return;
      }
      try {
        await body();
        assert.deepEqual(blockedUrls, [], 'pages requested URLs outside the test server; they were blocked');
      } catch (error) {
        failedStep = name;
        await saveFailureScreenshot(name);
        throw error;
      }
    });
  }

  /** Saves a screenshot of the page a step failed on next to the kept server log. */
  async function saveFailureScreenshot(stepName) {
    const file = path.join(workDir, `failed ${stepName}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true });
      process.stderr.write(`Saved a screenshot of the failed step in ${file}\n`);
    } catch (error) {
      process.stderr.write(`Failed to save a screenshot of the failed step: ${error.message}\n`);
    }
  }

  async function clickAndWaitForLoad(locator) {
    await Promise.all([page.waitForEvent('load'), locator.click()]);
  }

  function currentPath() {
    return new URL(page.url()).pathname;
  }

  /** Fails unless the page is at `expected`, quoting the page's text to show where it went instead. */
  async function assertPath(expected, message) {
    const actual = currentPath();
    if (actual === expected) {
      return;
    }
    const shown = await page.locator('main').innerText().catch((error) => `(failed to read the page: ${error.message})`);
    assert.equal(actual, expected, `${message}. The page at ${actual} shows: ${JSON.stringify(shown.slice(0, 400))}`);
  }

  function headingText() {
    return page.getByRole('heading', { level: 1 }).innerText();
  }

  async function signIn(password) {
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Sign in' }));
  }

  step('home page redirects to sign-in', async () => {
    await page.goto(server.url);

    await assertPath('/sign-in', `opening ${server.url} while signed out should redirect to /sign-in`);
    assert.equal(await headingText(), 'Sign in', 'the sign-in page should have the heading "Sign in"');
    await assertAccessible(page);
  });

  step('Create account link opens sign-up form', async () => {
    await clickAndWaitForLoad(page.getByRole('link', { name: 'Create account', exact: true }));

    await assertPath('/sign-up', 'the "Create account" link should open /sign-up');
    assert.equal(await headingText(), 'Create your Outpost account', 'the sign-up page should have its heading');
    await assertAccessible(page);
  });

  step('sign-up with strong password opens Account Info', async () => {
    await page.getByLabel('Email address (your username)').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(FIRST_PASSWORD);
    await page.getByLabel('Repeat the password').fill(FIRST_PASSWORD);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Create account' }));

    await assertPath('/account', `signing up as ${EMAIL} should land on /account`);
    assert.equal(await headingText(), 'Account Info', 'the page after sign-up should be Account Info');
    const welcome = await page.getByRole('status').innerText();
    assert.match(welcome, /^Welcome to Outpost\./, 'Account Info should greet a new Team Master');
    await assertAccessible(page);
  });

  step('billing form saves valid details', async () => {
    await page.getByLabel('Business', { exact: true }).check();
    await page.getByLabel(LABELS.name).fill(BILLING.name);
    await page.getByLabel(LABELS.addressLine1).fill(BILLING.addressLine1);
    await page.getByLabel(LABELS.postalCode).fill(BILLING.postalCode);
    await page.getByLabel(LABELS.city).fill(BILLING.city);
    await page.getByLabel(LABELS.country, { exact: true }).selectOption({ label: BILLING.countryName });
    await page.getByLabel(LABELS.taxId).fill(BILLING.vatNumber);
    await page.getByLabel(LABELS.billingEmail).fill(BILLING.billingEmail);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Save billing details' }));

    await assertPath('/account', 'saving billing details should return to /account');
    assert.equal(await page.getByRole('status').innerText(), 'Billing details saved.', 'Account Info should confirm the save');
    await assertAccessible(page);
  });

  step('Account Info shows saved details after reload', async () => {
    await page.reload();

    assert.equal(await page.getByLabel('Business', { exact: true }).isChecked(), true, 'the account type should still be Business');
    assert.equal(await page.getByLabel(LABELS.name).inputValue(), BILLING.name, 'the name should keep its non-ASCII characters');
    assert.equal(await page.getByLabel(LABELS.addressLine1).inputValue(), BILLING.addressLine1, 'address line 1 should be saved');
    assert.equal(await page.getByLabel(LABELS.postalCode).inputValue(), BILLING.postalCode, 'the postal code should be saved');
    assert.equal(await page.getByLabel(LABELS.city).inputValue(), BILLING.city, 'the city should be saved');
    assert.equal(await page.getByLabel(LABELS.country, { exact: true }).inputValue(), BILLING.countryCode, 'the country should be saved as DE');
    assert.equal(await page.getByLabel(LABELS.taxId).inputValue(), BILLING.vatNumber, 'the VAT number should be saved');
    assert.equal(await page.getByLabel(LABELS.billingEmail).inputValue(), BILLING.billingEmail, 'the billing email should be saved');
    await assertAccessible(page);
  });

  step('billing form rejects malformed VAT number', async () => {
    await page.getByLabel(LABELS.taxId).fill(BAD_VAT_NUMBER);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Save billing details' }));

    const taxIdField = page.getByLabel(LABELS.taxId);
    assert.equal(await taxIdField.getAttribute('aria-invalid'), 'true', 'the Tax ID field should be marked invalid');
    const describedBy = await taxIdField.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the Tax ID field should point at its error message with aria-describedby');
    const message = await page.locator(`[id="${describedBy}"]`).innerText();
    assert.equal(
      message,
      `VAT number "${BAD_VAT_NUMBER}" does not have the format used in DE, for example DE123456789.`,
      'the message beside the Tax ID field should explain the German VAT format',
    );
    const alert = await page.getByRole('alert').innerText();
    assert.match(alert, /Nothing was saved\./, 'the form should say that nothing was saved');
    await assertAccessible(page);
  });

  step('billing form keeps typed values after error', async () => {
    assert.equal(await page.getByLabel('Business', { exact: true }).isChecked(), true, 'Business should stay checked');
    assert.equal(await page.getByLabel(LABELS.name).inputValue(), BILLING.name, 'the typed name should be kept');
    assert.equal(await page.getByLabel(LABELS.addressLine1).inputValue(), BILLING.addressLine1, 'the typed address line 1 should be kept');
    assert.equal(await page.getByLabel(LABELS.postalCode).inputValue(), BILLING.postalCode, 'the typed postal code should be kept');
    assert.equal(await page.getByLabel(LABELS.city).inputValue(), BILLING.city, 'the typed city should be kept');
    assert.equal(await page.getByLabel(LABELS.country, { exact: true }).inputValue(), BILLING.countryCode, 'the chosen country should be kept');
    assert.equal(await page.getByLabel(LABELS.taxId).inputValue(), BAD_VAT_NUMBER, 'the rejected VAT number should be kept for correction');
    assert.equal(await page.getByLabel(LABELS.billingEmail).inputValue(), BILLING.billingEmail, 'the typed billing email should be kept');
  });

  step('rejected save leaves stored details unchanged', async () => {
    await clickAndWaitForLoad(page.getByRole('link', { name: 'Account Info' }));

    assert.equal(await page.getByLabel(LABELS.taxId).inputValue(), BILLING.vatNumber, 'the stored VAT number should still be the valid one');
    await assertAccessible(page);
  });

  step('Change password form changes password', async () => {
    await clickAndWaitForLoad(page.getByRole('link', { name: 'Change password' }));
    assert.equal(await headingText(), 'Change password', 'the "Change password" link should open the Change password page');
    await assertAccessible(page);

    await page.getByLabel('Current password').fill(FIRST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(SECOND_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(SECOND_PASSWORD);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Change password' }));

    const notice = await page.getByRole('status').innerText();
    assert.equal(notice, 'Your password has been changed. Your other sessions have ended.', 'the page should confirm the password change');
    await assertAccessible(page);
  });

  step('Sign out button ends session', async () => {
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Sign out' }));

    await assertPath('/sign-in', 'signing out should open /sign-in');
    assert.equal(await page.getByRole('status').innerText(), 'You have signed out.', 'the sign-in page should confirm the sign-out');
    await assertAccessible(page);
  });

  step('sign-in with old password fails', async () => {
    await signIn(FIRST_PASSWORD);

    await assertPath('/sign-in', 'a failed sign-in should stay on /sign-in');
    const alert = await page.getByRole('alert').innerText();
    assert.ok(
      alert.startsWith('The email address or password is incorrect.'),
      `the password from before the change should be rejected with the standard message, got ${JSON.stringify(alert)}`,
    );
    await assertAccessible(page);
  });

  step('sign-in with new password succeeds', async () => {
    await signIn(SECOND_PASSWORD);

    await assertPath('/account', 'signing in with the changed password should open /account');
    assert.equal(await headingText(), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  });

  step('forgot-password form emails reset link', async () => {
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Sign out' }));
    await assertPath('/sign-in', 'signing out should open /sign-in');

    await clickAndWaitForLoad(page.getByRole('link', { name: 'Forgot password?' }));
    assert.equal(await headingText(), 'Reset your password', 'the "Forgot password?" link should open the reset request page');
    await assertAccessible(page);

    const previousMessages = listMessages(outbox);
    await page.getByLabel('Email address').fill(EMAIL);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Send reset link' }));

    const confirmation = await page.getByRole('status').innerText();
    assert.match(confirmation, /^If an account exists for /, 'the page should say that a link was sent if the account exists');
    await assertAccessible(page);

    const isResetLine = (line) => line.startsWith(server.url) && line.includes('/reset-password?token=');
    const message = await waitForMessageLine(outbox, previousMessages, isResetLine, MAIL_TIMEOUT_MS);
    assert.equal(message.headers.to, EMAIL, `the reset message ${message.name} should be addressed to ${EMAIL}`);
    resetLink = message.line;
  });

  step('reset link opens new-password form', async () => {
    await page.goto(resetLink);

    assert.equal(await headingText(), 'Set a new password', 'the emailed link should open the Set a new password page');
    assert.equal(await page.getByText(`For ${EMAIL}.`).count(), 1, `the page should name the account ${EMAIL}`);
    await assertAccessible(page);
  });

  step('reset form sets third password', async () => {
    await page.getByLabel('New password', { exact: true }).fill(THIRD_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(THIRD_PASSWORD);
    await clickAndWaitForLoad(page.getByRole('button', { name: 'Set password' }));

    await assertPath('/sign-in', 'setting the password should open /sign-in');
    const notice = await page.getByRole('status').innerText();
    assert.equal(notice, 'Your password has been changed. Sign in with the new password.', 'the sign-in page should confirm the reset');
    await assertAccessible(page);
  });

  step('sign-in with reset password succeeds', async () => {
    await signIn(THIRD_PASSWORD);

    await assertPath('/account', 'signing in with the password set through the link should open /account');
    assert.equal(await headingText(), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  });

  step('used reset link no longer works', async () => {
    await page.goto(resetLink);

    const alert = await page.getByRole('alert').innerText();
    assert.match(alert, /^This reset link does not work/, 'opening a reset link a second time should say that it does not work');
    assert.equal(await page.getByLabel('New password', { exact: true }).count(), 0, 'a used reset link should show no password form');
    await assertAccessible(page);
  });
});
