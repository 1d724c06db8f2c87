// Two-factor authentication in a real browser, step by step: switching it on with the QR
// code, recovery codes, sign-in with a code, a trusted browser and its removal, sign-in with
// a recovery code, and the security notices in the outbox. zbarimg reads the QR code and
// oathtool computes the codes (see ../lib/authenticator.js).
// Each step continues from the page the previous step left open.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { Authenticator, decodeQrCode } from '../lib/authenticator.js';
import { assertAccessible } from '../lib/browser.js';
import { MAIL_TIMEOUT_MS, assertPath, clickAndWaitForLoad, describeBrowserFlow, headingText } from '../lib/flow.js';
import { waitForSubjects } from '../lib/mail.js';

const REQUIRED_TOOLS = [
  { name: 'oathtool', path: null, debianPackage: 'oathtool' },
  { name: 'zbarimg', path: null, debianPackage: 'zbar-tools' },
];

// A step may wait up to 31 s for a fresh TOTP time step before it signs in.
const STEP_TIMEOUT_MS = 90_000;

// The issuer and username carry characters that the key URI must percent-encode: '&' and a
// space in the issuer, '+' and '@' in the username. Each run has a fresh database, so the
// same username is free every time.
const ISSUER = 'A&B Networks';
const EMAIL = 'ops+1@example.com';
const ENCODED_ISSUER = 'A%26B%20Networks';
const ENCODED_EMAIL = 'ops%2B1%40example.com';
const PASSWORD = 'granite falcon orchard velvet';

const TRUSTED_DEVICE_DAYS = 30;
const REMEMBER_LABEL = `Remember this browser for ${TRUSTED_DEVICE_DAYS} days`;
const CODE_PAGE_PATH = '/sign-in/two-factor';
const TWO_FACTOR_PATH = '/security/two-factor';
const RECOVERY_CODE_PATTERN = /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/;

const NOTICE_SUBJECTS = {
  enabled: 'Two-factor authentication is on for your Outpost account',
  deviceAdded: 'New trusted device on your Outpost account',
  deviceRemoved: 'A trusted device was removed from your Outpost account',
  recoveryCodeUsed: 'A recovery code was used on your Outpost account',
};

/**
 * Splits an otpauth:// key URI into its label parts and query parameters without decoding
 * them, so a test can compare the percent-encoded text itself.
 */
function splitKeyUri(uri) {
  const match = /^otpauth:\/\/totp\/([^?]*)\?(.*)$/.exec(uri);
  assert.ok(match, `the QR code should hold an otpauth://totp/ key URI, got ${JSON.stringify(uri)}`);
  const [label, query] = match.slice(1);
  const colon = label.indexOf(':');
  assert.ok(colon > 0, `the key URI label ${JSON.stringify(label)} should have the form ISSUER:ACCOUNT`);

  const parameters = new Map();
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    parameters.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return { labelIssuer: label.slice(0, colon), labelAccount: label.slice(colon + 1), parameters };
}

const FLOW_OPTIONS = { tools: REQUIRED_TOOLS, serverSettings: { OUTPOST_TOTP_ISSUER: ISSUER }, stepTimeoutMs: STEP_TIMEOUT_MS };

describeBrowserFlow('two-factor authentication flow', FLOW_OPTIONS, ({ step }) => {
  let authenticator;
  let recoveryCodes;

  async function signOut(page) {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Sign out' }));
    await assertPath(page, '/sign-in', 'signing out should open /sign-in');
    assert.equal(await page.getByRole('status').innerText(), 'You have signed out.', 'the sign-in page should confirm the sign-out');
    await assertAccessible(page);
  }

  async function signInWithPassword(page) {
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Sign in' }));
  }

  /** Signs out and in again with the password, and checks that the code page opens. */
  async function signInUpToCodePage(page) {
    await signOut(page);
    await signInWithPassword(page);

    await assertPath(page, CODE_PAGE_PATH, `signing in with the password should ask for the second factor at ${CODE_PAGE_PATH}`);
    assert.equal(await headingText(page), 'Enter your code', 'the code page should have the heading "Enter your code"');
    await assertAccessible(page);
  }

  async function enterSecondFactor(page, code, { remember }) {
    await page.getByLabel('Authenticator code or recovery code').fill(code);
    await page.getByLabel(REMEMBER_LABEL).setChecked(remember);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Continue' }));
  }

  async function assertOnAccountInfo(page, message) {
    await assertPath(page, '/account', message);
    assert.equal(await headingText(page), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  }

  step('sign-up as ops+1 opens Account Info', async ({ page, server }) => {
    await page.goto(new URL('/sign-up', server.url).href);
    assert.equal(await headingText(page), 'Create your Outpost account', 'the sign-up page should have its heading');
    await assertAccessible(page);

    await page.getByLabel('Email address (your username)').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Create account' }));

    await assertOnAccountInfo(page, `signing up as ${EMAIL} should land on /account`);
  });

  step('Two-factor link shows switch off', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Two-factor' }));

    await assertPath(page, TWO_FACTOR_PATH, `the "Two-factor" link should open ${TWO_FACTOR_PATH}`);
    assert.equal(await headingText(page), 'Two-factor authentication', 'the Two-factor page should have its heading');
    const toggle = page.getByRole('switch', { name: 'Two-factor authentication is off' });
    assert.equal(await toggle.isChecked(), false, 'the switch should be off for a new user');
    await assertAccessible(page);
  });

  step('switch opens password form', async ({ page }) => {
    // outpost.js submits the switch's form on change and hides the "Turn on" button.
    await clickAndWaitForLoad(page, page.getByRole('switch', { name: 'Two-factor authentication is off' }));

    await assertPath(page, `${TWO_FACTOR_PATH}/enable`, 'switching two-factor on should ask for the password first');
    assert.equal(await headingText(page), 'Turn on two-factor authentication', 'the password page should have its heading');
    await assertAccessible(page);
  });

  step('password opens QR code page', async ({ page }) => {
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Continue' }));

    await assertPath(page, `${TWO_FACTOR_PATH}/confirm`, 'the correct password should open the QR code page');
    assert.equal(await headingText(page), 'Set up your authenticator app', 'the QR code page should have its heading');
    const qrImage = page.getByRole('img', { name: 'QR code of the key for your authenticator app' });
    const isLoaded = await qrImage.evaluate((image) => image.complete && image.naturalWidth > 0);
    assert.equal(isLoaded, true, 'the QR code image should load');
    await assertAccessible(page);
  });

  step('QR code holds exact key URI', async ({ page, server, workDir }) => {
    const keyText = await page.locator('#secret-key').innerText();
    const key = keyText.replace(/\s+/g, '');
    assert.match(key, /^[A-Z2-7]{32}$/, `the key for manual entry should be 160 bits in base32, got ${JSON.stringify(keyText)}`);

    const response = await page.request.get(new URL(`${TWO_FACTOR_PATH}/qr.png`, server.url).href);
    assert.equal(response.status(), 200, 'the QR code should download with the page\'s session cookie');
    assert.equal(response.headers()['content-type'], 'image/png', 'the QR code should be a PNG');
    const pngPath = path.join(workDir, 'qr.png');
    writeFileSync(pngPath, await response.body());

    const uri = await decodeQrCode(pngPath);
    assert.equal(
      uri,
      `otpauth://totp/${ENCODED_ISSUER}:${ENCODED_EMAIL}?secret=${key}&issuer=${ENCODED_ISSUER}`,
      'the QR code should contain the key URI with the percent-encoded issuer and username and the key shown on the page',
    );

    const { labelIssuer, labelAccount, parameters } = splitKeyUri(uri);
    assert.equal(decodeURIComponent(labelIssuer), ISSUER, 'the label\'s issuer should decode to the configured issuer');
    assert.equal(decodeURIComponent(labelAccount), EMAIL, 'the label\'s account should decode to the username');
    assert.equal(decodeURIComponent(parameters.get('issuer')), ISSUER, 'the issuer parameter should decode to the configured issuer');
    authenticator = new Authenticator(key);
  });

  step('first code turns on two-factor', async ({ page }) => {
    await page.getByLabel('Code from the app').fill(await authenticator.nextCode());
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Turn on two-factor authentication' }));

    assert.equal(await headingText(page), 'Save your recovery codes', 'a correct code should open the recovery codes page');
    assert.equal(await page.getByRole('status').innerText(), 'Two-factor authentication is on.', 'the page should confirm that two-factor is on');
    recoveryCodes = await page.locator('#recovery-codes li').allInnerTexts();
    assert.equal(recoveryCodes.length, 10, `the page should list 10 recovery codes, got ${JSON.stringify(recoveryCodes)}`);
    for (const code of recoveryCodes) {
      assert.match(code, RECOVERY_CODE_PATTERN, 'each recovery code should be six groups of four base32 letters');
    }
    assert.equal(new Set(recoveryCodes).size, 10, 'the recovery codes should differ from each other');
    await assertAccessible(page);
  });

  step('sign-in asks for code', async ({ page }) => {
    await signInUpToCodePage(page);
  });

  step('code with Remember signs in', async ({ page }) => {
    await enterSecondFactor(page, await authenticator.nextCode(), { remember: true });

    await assertOnAccountInfo(page, 'a correct authenticator code should complete the sign-in');
  });

  step('trusted browser skips code', async ({ page }) => {
    await signOut(page);
    await signInWithPassword(page);

    await assertOnAccountInfo(page, 'a remembered browser should be signed in with the password alone');
  });

  step('trusted devices table lists browser', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Two-factor' }));

    await assertPath(page, TWO_FACTOR_PATH, `the "Two-factor" link should open ${TWO_FACTOR_PATH}`);
    const toggle = page.getByRole('switch', { name: 'Two-factor authentication is on' });
    assert.equal(await toggle.isChecked(), true, 'the switch should be on');
    const rows = page.locator('table tbody tr');
    assert.equal(await rows.count(), 1, 'the trusted devices table should have one row');
    const cells = await rows.first().getByRole('cell').allInnerTexts();
    // The browser's own row carries a "this browser" mark after its description.
    assert.equal(cells[0], 'Chrome on Linux this browser', 'the row should describe headless Chromium as Chrome on Linux');
    const mark = rows.first().getByRole('cell').first().locator('mark');
    assert.equal(await mark.innerText(), 'this browser', 'the row of the browser in use should be marked "this browser"');
    assert.equal(cells[1], '127.0.0.1', 'the row should show the loopback address the browser signed in from');
    await assertAccessible(page);
  });

  step('bin button removes trusted device', async ({ page }) => {
    const removeButton = page.getByRole('button', { name: /^Remove Chrome on Linux added / });
    assert.equal(await removeButton.locator('img[src="/assets/trash-2.svg"]').count(), 1, 'the remove button should show the bin icon');
    await clickAndWaitForLoad(page, removeButton);

    await assertPath(page, TWO_FACTOR_PATH, 'removing a device should return to the Two-factor page');
    const notice = await page.getByRole('status').innerText();
    assert.equal(notice, 'The device was removed: it needs a code at its next sign-in.', 'the page should confirm the removal');
    assert.equal(await page.locator('table').count(), 0, 'no trusted devices table should remain');
    await assertAccessible(page);
  });

  step('removed device asks for code', async ({ page }) => {
    await signInUpToCodePage(page);
  });

  step('recovery code signs in', async ({ page }) => {
    await enterSecondFactor(page, recoveryCodes[0], { remember: false });

    await assertOnAccountInfo(page, 'an unused recovery code should complete the sign-in');
  });

  step('used recovery code is rejected', async ({ page }) => {
    await signInUpToCodePage(page);
    await enterSecondFactor(page, recoveryCodes[0], { remember: false });

    await assertPath(page, CODE_PAGE_PATH, 'a used recovery code should keep the code page open');
    const alert = await page.getByRole('alert').innerText();
    assert.equal(
      alert,
      'The code is wrong or was already used. Enter the current 6-digit code from your authenticator app, or an unused recovery code.',
      'the code page should say that the code is wrong or used',
    );
    await assertAccessible(page);
  });

  step('outbox holds security notices', async ({ outbox }) => {
    const messages = await waitForSubjects(outbox, Object.values(NOTICE_SUBJECTS), MAIL_TIMEOUT_MS);
    const expectedLines = {
      enabled: 'Two-factor authentication was turned on: signing in now needs a code from your authenticator app.',
      deviceAdded: `A browser at 127.0.0.1 was added as a trusted device: it signs in without a code for ${TRUSTED_DEVICE_DAYS} days.`,
      deviceRemoved: 'A browser was removed from your trusted devices: it needs a code at its next sign-in.',
      recoveryCodeUsed: 'A recovery code was used to sign in from 127.0.0.1. 9 unused recovery codes are left.',
    };

    for (const [kind, subject] of Object.entries(NOTICE_SUBJECTS)) {
      const matching = messages.filter((message) => message.headers.subject === subject);
      assert.equal(matching.length, 1, `the outbox should hold one message "${subject}", found ${matching.length}`);
      const [message] = matching;
      assert.equal(message.headers.to, EMAIL, `the message ${message.name} should be addressed to ${EMAIL}`);
      const lines = message.body.split(/\r?\n/).map((line) => line.trim());
      assert.ok(lines.includes(`This is a security notice for your Outpost account ${EMAIL}.`), `the message ${message.name} should name the account`);
      assert.ok(lines.includes(expectedLines[kind]), `the message ${message.name} should say ${JSON.stringify(expectedLines[kind])}; its body is ${JSON.stringify(message.body)}`);
    }
  });
});
