// One user's path through the portal, step by step in a real browser: sign-up, billing
// details, password change, sign-in, and a password reset through the emailed link.
// Each step continues from the page the previous step left open.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { assertAccessible } from '../lib/browser.js';
import { MAIL_TIMEOUT_MS, assertPath, clickAndWaitForLoad, describeBrowserFlow, headingText } from '../lib/flow.js';
import { listMessages, waitForMessageLine } from '../lib/mail.js';

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

describeBrowserFlow('account portal flow', {}, ({ step }) => {
  let resetLink;

  async function signIn(page, password) {
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Sign in' }));
  }

  step('home page redirects to sign-in', async ({ page, server }) => {
    await page.goto(server.url);

    await assertPath(page, '/sign-in', `opening ${server.url} while signed out should redirect to /sign-in`);
    assert.equal(await headingText(page), 'Sign in', 'the sign-in page should have the heading "Sign in"');
    await assertAccessible(page);
  });

  step('Create account link opens sign-up form', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Create account', exact: true }));

    await assertPath(page, '/sign-up', 'the "Create account" link should open /sign-up');
    assert.equal(await headingText(page), 'Create your Outpost account', 'the sign-up page should have its heading');
    await assertAccessible(page);
  });

  step('sign-up with strong password opens Account Info', async ({ page }) => {
    await page.getByLabel('Email address (your username)').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(FIRST_PASSWORD);
    await page.getByLabel('Repeat the password').fill(FIRST_PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Create account' }));

    await assertPath(page, '/account', `signing up as ${EMAIL} should land on /account`);
    assert.equal(await headingText(page), 'Account Info', 'the page after sign-up should be Account Info');
    const welcome = await page.getByRole('status').innerText();
    assert.match(welcome, /^Welcome to Outpost\./, 'Account Info should greet a new Team Master');
    await assertAccessible(page);
  });

  step('billing form saves valid details', async ({ page }) => {
    await page.getByLabel('Business', { exact: true }).check();
    await page.getByLabel(LABELS.name).fill(BILLING.name);
    await page.getByLabel(LABELS.addressLine1).fill(BILLING.addressLine1);
    await page.getByLabel(LABELS.postalCode).fill(BILLING.postalCode);
    await page.getByLabel(LABELS.city).fill(BILLING.city);
    await page.getByLabel(LABELS.country, { exact: true }).selectOption({ label: BILLING.countryName });
    await page.getByLabel(LABELS.taxId).fill(BILLING.vatNumber);
    await page.getByLabel(LABELS.billingEmail).fill(BILLING.billingEmail);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Save billing details' }));

    await assertPath(page, '/account', 'saving billing details should return to /account');
    assert.equal(await page.getByRole('status').innerText(), 'Billing details saved.', 'Account Info should confirm the save');
    await assertAccessible(page);
  });

  step('Account Info shows saved details after reload', async ({ page }) => {
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

  step('billing form rejects malformed VAT number', async ({ page }) => {
    await page.getByLabel(LABELS.taxId).fill(BAD_VAT_NUMBER);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Save billing details' }));

    const taxIdField = page.getByLabel(LABELS.taxId);
    assert.equal(await taxIdField.getAttribute('aria-invalid'), 'true', 'the Tax ID field should be marked invalid');
    const describedBy = await taxIdField.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the Tax ID field should point at its error message with aria-describedby');
    const message = await page.locator(`[id="${describedBy}"]`).innerText();
    assert.equal(
      message,
      `VAT number "${BAD_VAT_NUMBER}" does not have the format used in Germany (DE), for example DE123456789.`,
      'the message beside the Tax ID field should explain the German VAT format',
    );
    const alert = await page.getByRole('alert').innerText();
    assert.match(alert, /Nothing was saved\./, 'the form should say that nothing was saved');
    await assertAccessible(page);
  });

  step('billing form keeps typed values after error', async ({ page }) => {
    assert.equal(await page.getByLabel('Business', { exact: true }).isChecked(), true, 'Business should stay checked');
    assert.equal(await page.getByLabel(LABELS.name).inputValue(), BILLING.name, 'the typed name should be kept');
    assert.equal(await page.getByLabel(LABELS.addressLine1).inputValue(), BILLING.addressLine1, 'the typed address line 1 should be kept');
    assert.equal(await page.getByLabel(LABELS.postalCode).inputValue(), BILLING.postalCode, 'the typed postal code should be kept');
    assert.equal(await page.getByLabel(LABELS.city).inputValue(), BILLING.city, 'the typed city should be kept');
    assert.equal(await page.getByLabel(LABELS.country, { exact: true }).inputValue(), BILLING.countryCode, 'the chosen country should be kept');
    assert.equal(await page.getByLabel(LABELS.taxId).inputValue(), BAD_VAT_NUMBER, 'the rejected VAT number should be kept for correction');
    assert.equal(await page.getByLabel(LABELS.billingEmail).inputValue(), BILLING.billingEmail, 'the typed billing email should be kept');
  });

  step('rejected save leaves stored details unchanged', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Account Info' }));

    assert.equal(await page.getByLabel(LABELS.taxId).inputValue(), BILLING.vatNumber, 'the stored VAT number should still be the valid one');
    await assertAccessible(page);
  });

  step('Change password form changes password', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Change password' }));
    assert.equal(await headingText(page), 'Change password', 'the "Change password" link should open the Change password page');
    await assertAccessible(page);

    await page.getByLabel('Current password').fill(FIRST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(SECOND_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(SECOND_PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Change password' }));

    const notice = await page.getByRole('status').innerText();
    assert.equal(notice, 'Your password has been changed. Your other sessions have ended.', 'the page should confirm the password change');
    await assertAccessible(page);
  });

  step('Sign out button ends session', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Sign out' }));

    await assertPath(page, '/sign-in', 'signing out should open /sign-in');
    assert.equal(await page.getByRole('status').innerText(), 'You have signed out.', 'the sign-in page should confirm the sign-out');
    await assertAccessible(page);
  });

  step('sign-in with old password fails', async ({ page }) => {
    await signIn(page, FIRST_PASSWORD);

    await assertPath(page, '/sign-in', 'a failed sign-in should stay on /sign-in');
    const alert = await page.getByRole('alert').innerText();
    assert.ok(
      alert.startsWith('The email address or password is incorrect.'),
      `the password from before the change should be rejected with the standard message, got ${JSON.stringify(alert)}`,
    );
    await assertAccessible(page);
  });

  step('sign-in with new password succeeds', async ({ page }) => {
    await signIn(page, SECOND_PASSWORD);

    await assertPath(page, '/account', 'signing in with the changed password should open /account');
    assert.equal(await headingText(page), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  });

  step('forgot-password form emails reset link', async ({ page, server, outbox }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Sign out' }));
    await assertPath(page, '/sign-in', 'signing out should open /sign-in');

    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Forgot password?' }));
    assert.equal(await headingText(page), 'Reset your password', 'the "Forgot password?" link should open the reset request page');
    await assertAccessible(page);

    const previousMessages = listMessages(outbox);
    await page.getByLabel('Email address').fill(EMAIL);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Send reset link' }));

    const confirmation = await page.getByRole('status').innerText();
    assert.match(confirmation, /^If an account exists for /, 'the page should say that a link was sent if the account exists');
    await assertAccessible(page);

    const isResetLine = (line) => line.startsWith(server.url) && line.includes('/reset-password?token=');
    const message = await waitForMessageLine(outbox, previousMessages, isResetLine, MAIL_TIMEOUT_MS);
    assert.equal(message.headers.to, EMAIL, `the reset message ${message.name} should be addressed to ${EMAIL}`);
    resetLink = message.line;
  });

  step('reset link opens new-password form', async ({ page }) => {
    await page.goto(resetLink);

    assert.equal(await headingText(page), 'Set a new password', 'the emailed link should open the Set a new password page');
    assert.equal(await page.getByText(`For ${EMAIL}.`).count(), 1, `the page should name the account ${EMAIL}`);
    await assertAccessible(page);
  });

  step('reset form sets third password', async ({ page }) => {
    await page.getByLabel('New password', { exact: true }).fill(THIRD_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(THIRD_PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Set password' }));

    await assertPath(page, '/sign-in', 'setting the password should open /sign-in');
    const notice = await page.getByRole('status').innerText();
    assert.equal(notice, 'Your password has been changed. Sign in with the new password.', 'the sign-in page should confirm the reset');
    await assertAccessible(page);
  });

  step('sign-in with reset password succeeds', async ({ page }) => {
    await signIn(page, THIRD_PASSWORD);

    await assertPath(page, '/account', 'signing in with the password set through the link should open /account');
    assert.equal(await headingText(page), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  });

  step('used reset link no longer works', async ({ page }) => {
    await page.goto(resetLink);

    const alert = await page.getByRole('alert').innerText();
    assert.match(alert, /^This reset link does not work/, 'opening a reset link a second time should say that it does not work');
    assert.equal(await page.getByLabel('New password', { exact: true }).count(), 0, 'a used reset link should show no password form');
    await assertAccessible(page);
  });
});
