// The Team page in a real browser, with two users in separate browser contexts. The Team
// Master invites a member who must use two-factor authentication, resends the invitation and
// cancels a second one, and each replaced or cancelled link stops working. The member joins
// through the emailed link and is held on the Two-factor page until they switch it on with a
// code from oathtool. The Team page, its filter and its CSV export then show the member's
// two-factor as Enabled, and removing the member ends the member's session. Requiring
// two-factor team-wide then keeps the Team Master on the Two-factor page.
// Each step continues from the pages the previous step left open: `page` is the Team Master's
// page and `memberPage` the member's.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { Authenticator } from '../lib/authenticator.js';
import { assertAccessible } from '../lib/browser.js';
import { MAIL_TIMEOUT_MS, assertPath, clickAndWaitForLoad, describeBrowserFlow, headingText, readTableRows } from '../lib/flow.js';
import { listMessages, waitForMessageLine } from '../lib/mail.js';

const REQUIRED_TOOLS = [{ name: 'oathtool', path: null, debianPackage: 'oathtool' }];

const MASTER_EMAIL = 'team.master@example.com';
const MASTER_PASSWORD = 'harbor pepper glacier novel';
const MEMBER_EMAIL = 'jana.mueller+noc@example.net';
// The comma makes the CSV export quote the name, and the umlaut tests that the export keeps UTF-8.
const MEMBER_NAME = 'Jana Müller, NOC';
const MEMBER_PASSWORD = 'walnut signal ferry orbit';
/** An address invited and then cancelled before it joins. */
const CANCELLED_EMAIL = 'night.shift@example.org';

const TWO_FACTOR_PATH = '/security/two-factor';
const INVITATION_LIFETIME_MS = 72 * 3600 * 1000;
const RECOVERY_CODE_PATTERN = /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/;
/** Time format of the Team page and the CSV export, such as "2025-12-04 20:31 UTC". */
const UTC_MINUTE_PATTERN = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC$/;
const CSV_HEADER = 'username,name,role,two_factor,last_sign_in_utc';

/** Returns the unix time in milliseconds of a time shown as "YYYY-MM-DD HH:MM UTC". */
function parseUtcMinute(text) {
  const match = UTC_MINUTE_PATTERN.exec(text);
  assert.ok(match, `expected a time such as "2025-12-04 20:31 UTC", got ${JSON.stringify(text)}`);
  return Date.parse(`${match[1]}T${match[2]}:00Z`);
}

/**
 * Parses CSV text (RFC 4180: CRLF line ends, quoted cells with "" for a quote) into rows of
 * cells, and fails unless the text ends with a line end.
 */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else {
      cell += char;
    }
  }
  assert.equal(quoted, false, 'the CSV should close every quoted cell');
  assert.deepEqual([...row, cell], [''], `the CSV should end with CRLF, but its last line is ${JSON.stringify([...row, cell])}`);
  return rows;
}

/** Returns the Team page's members table, found by its "Username" column. */
function membersTable(page) {
  return page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Username' }) });
}

/** Returns the Team page's table of pending invitations, found by its "Expires" column. */
function invitationsTable(page) {
  return page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Expires' }) });
}

/** Returns the row of the pending invitation to `email`. */
function invitationRow(page, email) {
  return invitationsTable(page).locator('tbody tr').filter({ hasText: email });
}

const isInvitationLine = (line) => line.includes('/invitation?token=');

/** Opens `link` in `page` and checks that the invitation page rejects it. */
async function assertInvitationUnusable(page, link, message) {
  const response = await page.goto(link);

  assert.equal(response.status(), 410, `${message}: the invitation page should answer 410 Gone`);
  assert.equal(await headingText(page), 'Invitation not usable', `${message}: the page should say the invitation is not usable`);
  await assertAccessible(page);
}

/** Picks `label` in the Team page's two-factor filter and returns the usernames listed. */
async function filterMembers(page, label) {
  await page.getByLabel('Two-factor status').selectOption({ label });
  await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Filter' }));
  const members = await readTableRows(membersTable(page));
  return members.map((row) => row.Username);
}

describeBrowserFlow('team flow', { tools: REQUIRED_TOOLS }, ({ step, openPage }) => {
  let memberPage;
  let invitationLink;
  let previousMessages;
  let invitationSentAfterMs;
  let invitationSentBeforeMs;

  async function assertOnTwoFactorPage(message) {
    await assertPath(memberPage, TWO_FACTOR_PATH, message);
    assert.equal(await headingText(memberPage), 'Two-factor authentication', 'the Two-factor page should have its heading');
    await assertAccessible(memberPage);
  }

  step('sign-up as Team Master', async ({ page, server }) => {
    await page.goto(new URL('/sign-up', server.url).href);
    assert.equal(await headingText(page), 'Create your Outpost account', 'the sign-up page should have its heading');
    await assertAccessible(page);

    await page.getByLabel('Email address (your username)').fill(MASTER_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(MASTER_PASSWORD);
    await page.getByLabel('Repeat the password').fill(MASTER_PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Create account' }));

    await assertPath(page, '/account', `signing up as ${MASTER_EMAIL} should land on /account`);
    assert.equal(await headingText(page), 'Account Info', 'a Team Master should land on Account Info');
    await assertAccessible(page);
  });

  step('Team link opens Team page', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Team', exact: true }));

    await assertPath(page, '/team', 'the "Team" link should open /team');
    assert.equal(await headingText(page), 'Team', 'the Team page should have the heading "Team"');
    const members = await readTableRows(membersTable(page));
    assert.equal(members.length, 1, `the members table should list only the Team Master, got ${JSON.stringify(members)}`);
    assert.equal(members[0].Username, MASTER_EMAIL, 'the only member should be the Team Master');
    assert.equal(members[0].Role, 'Team Master', 'the Team Master row should show the role "Team Master"');
    assert.equal(await page.getByText('No invitation is waiting.').count(), 1, 'a new team should have no pending invitation');
    await assertAccessible(page);
  });

  step('Add member sends invitation', async ({ page, outbox }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Add member' }));
    await assertPath(page, '/team/invite', 'the "Add member" button should open /team/invite');
    assert.equal(await headingText(page), 'Add a team member', 'the invite page should have its heading');
    await assertAccessible(page);

    await page.getByLabel('Email address').fill(MEMBER_EMAIL);
    await page.getByLabel('Name').fill(MEMBER_NAME);
    const requireTwoFactor = page.getByLabel('Require two-factor authentication');
    await requireTwoFactor.check();
    assert.equal(await requireTwoFactor.isChecked(), true, 'the "Require two-factor authentication" box should be ticked');
    previousMessages = listMessages(outbox);
    invitationSentAfterMs = Date.now();
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Send invitation' }));
    invitationSentBeforeMs = Date.now();

    await assertPath(page, '/team', 'sending the invitation should return to /team');
    assert.equal(await page.getByRole('status').innerText(), 'Invitation sent.', 'the Team page should confirm the invitation');
    await assertAccessible(page);
  });

  step('Team page lists pending invitation', async ({ page }) => {
    const invitations = await readTableRows(invitationsTable(page));
    assert.equal(invitations.length, 1, `the pending invitations table should have one row, got ${JSON.stringify(invitations)}`);
    const [invitation] = invitations;
    assert.equal(invitation.Email, MEMBER_EMAIL, 'the invitation should show the invited address');
    assert.equal(invitation.Name, MEMBER_NAME, 'the invitation should show the name as typed');
    assert.equal(invitation['Two-factor'], 'Required', 'the invitation should show that two-factor is required');

    // The page shows the expiry rounded down to the minute.
    const expiresMs = parseUtcMinute(invitation.Expires);
    const expiryMessage = `the invitation should expire 72 hours after it was sent, but it expires ${invitation.Expires}`;
    assert.ok(expiresMs > invitationSentAfterMs + INVITATION_LIFETIME_MS - 60_000, expiryMessage);
    assert.ok(expiresMs <= invitationSentBeforeMs + INVITATION_LIFETIME_MS, expiryMessage);

    const members = await readTableRows(membersTable(page));
    assert.equal(members.length, 1, 'the invited address should not be a member before it joins');
  });

  step('invitation message contains link', async ({ server, outbox }) => {
    const message = await waitForMessageLine(outbox, previousMessages, isInvitationLine, MAIL_TIMEOUT_MS);

    assert.equal(message.headers.to, MEMBER_EMAIL, `the invitation ${message.name} should be addressed to ${MEMBER_EMAIL}`);
    assert.equal(message.headers.subject, 'You are invited to an Outpost team', `the invitation ${message.name} should have its subject`);
    assert.ok(message.body.startsWith(`Hello ${MEMBER_NAME},`), `the invitation ${message.name} should greet the member by name; its body is ${JSON.stringify(message.body)}`);
    assert.ok(message.line.startsWith(`${server.url}/invitation?token=`), `the link should point at the test server ${server.url}, got ${JSON.stringify(message.line)}`);
    invitationLink = message.line;
  });

  step('Resend replaces the link', async ({ page, outbox }) => {
    const firstLink = invitationLink;
    previousMessages = listMessages(outbox);
    await clickAndWaitForLoad(page, invitationRow(page, MEMBER_EMAIL).getByRole('button', { name: 'Resend' }));

    await assertPath(page, '/team', 'resending should return to /team');
    assert.equal(
      await page.getByRole('status').innerText(),
      'Invitation sent again with a new link; the earlier link no longer works.',
      'the Team page should confirm the resent invitation',
    );
    const message = await waitForMessageLine(outbox, previousMessages, isInvitationLine, MAIL_TIMEOUT_MS);
    assert.equal(message.headers.to, MEMBER_EMAIL, `the resent invitation ${message.name} should go to ${MEMBER_EMAIL}`);
    assert.notEqual(message.line, firstLink, 'the resent invitation should carry a new link');
    invitationLink = message.line;

    const strangerPage = await openPage('first link');
    await assertInvitationUnusable(strangerPage, firstLink, 'the link of the first invitation after a resend');
  });

  step('Cancel voids an invitation', async ({ page, outbox }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Add member' }));
    await page.getByLabel('Email address').fill(CANCELLED_EMAIL);
    await page.getByLabel('Name').fill('Night shift');
    previousMessages = listMessages(outbox);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Send invitation' }));
    const message = await waitForMessageLine(outbox, previousMessages, isInvitationLine, MAIL_TIMEOUT_MS);
    assert.equal(message.headers.to, CANCELLED_EMAIL, `the second invitation ${message.name} should go to ${CANCELLED_EMAIL}`);

    await clickAndWaitForLoad(page, invitationRow(page, CANCELLED_EMAIL).getByRole('button', { name: 'Cancel' }));

    await assertPath(page, '/team', 'cancelling should return to /team');
    assert.equal(await page.getByRole('status').innerText(), 'Invitation cancelled: its link no longer works.', 'the Team page should confirm the cancellation');
    const invitations = await readTableRows(invitationsTable(page));
    assert.deepEqual(invitations.map((row) => row.Email), [MEMBER_EMAIL], 'only the first invitation should still be pending');
    await assertAccessible(page);

    const strangerPage = await openPage('cancelled link');
    await assertInvitationUnusable(strangerPage, message.line, 'the link of a cancelled invitation');
  });

  step('member opens invitation link', async () => {
    memberPage = await openPage('member');
    await memberPage.goto(invitationLink);

    await assertPath(memberPage, '/invitation', 'the emailed link should open /invitation');
    assert.equal(await headingText(memberPage), 'Join the team', 'the invitation page should have the heading "Join the team"');
    const introduction = await memberPage.locator('main p').first().innerText();
    assert.ok(introduction.startsWith(`You were invited as ${MEMBER_EMAIL} (${MEMBER_NAME}).`), `the page should name the invited address and name, got ${JSON.stringify(introduction)}`);
    assert.ok(introduction.includes('Your Team Master requires two-factor authentication'), `the page should say that two-factor is required, got ${JSON.stringify(introduction)}`);
    await assertAccessible(memberPage);
  });

  step('password joins and opens Two-factor', async () => {
    await memberPage.getByLabel('Password', { exact: true }).fill(MEMBER_PASSWORD);
    await memberPage.getByLabel('Repeat the password').fill(MEMBER_PASSWORD);
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('button', { name: 'Join' }));

    await assertOnTwoFactorPage('a member who must use two-factor should land on the Two-factor page after joining');
    const alert = await memberPage.getByRole('alert').innerText();
    assert.equal(
      alert,
      'Your Team Master requires two-factor authentication. Set it up now to reach the rest of the portal.',
      'the Two-factor page should say that the Team Master requires two-factor',
    );
    const toggle = memberPage.getByRole('switch', { name: 'Two-factor authentication is off' });
    assert.equal(await toggle.isChecked(), false, 'the switch should be off for a new member');
    assert.equal(await memberPage.getByRole('link', { name: 'Team', exact: true }).count(), 0, 'a member should have no "Team" link');
  });

  step('member without two-factor is held', async ({ server }) => {
    for (const blockedPath of ['/security/password', '/account']) {
      await memberPage.goto(new URL(blockedPath, server.url).href);

      await assertOnTwoFactorPage(`opening ${blockedPath} before setting up two-factor should land on the Two-factor page`);
    }
  });

  step('switch opens password form', async () => {
    // outpost.js submits the switch's form on change and hides the "Turn on" button.
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('switch', { name: 'Two-factor authentication is off' }));

    await assertPath(memberPage, `${TWO_FACTOR_PATH}/enable`, 'switching two-factor on should ask for the password first');
    assert.equal(await headingText(memberPage), 'Turn on two-factor authentication', 'the password page should have its heading');
    await assertAccessible(memberPage);
  });

  step('password opens QR code page', async () => {
    await memberPage.getByLabel('Password', { exact: true }).fill(MEMBER_PASSWORD);
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('button', { name: 'Continue' }));

    await assertPath(memberPage, `${TWO_FACTOR_PATH}/confirm`, 'the correct password should open the QR code page');
    assert.equal(await headingText(memberPage), 'Set up your authenticator app', 'the QR code page should have its heading');
    await assertAccessible(memberPage);
  });

  step('code from typed key enables two-factor', async () => {
    const keyText = await memberPage.locator('#secret-key').innerText();
    const key = keyText.replace(/\s+/g, '');
    assert.match(key, /^[A-Z2-7]{32}$/, `the key for manual entry should be 160 bits in base32, got ${JSON.stringify(keyText)}`);

    const authenticator = new Authenticator(key);
    await memberPage.getByLabel('Code from the app').fill(await authenticator.nextCode());
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('button', { name: 'Turn on two-factor authentication' }));

    assert.equal(await headingText(memberPage), 'Save your recovery codes', 'a correct code should open the recovery codes page');
    assert.equal(await memberPage.getByRole('status').innerText(), 'Two-factor authentication is on.', 'the page should confirm that two-factor is on');
    const recoveryCodes = await memberPage.locator('#recovery-codes li').allInnerTexts();
    assert.equal(recoveryCodes.length, 10, `the page should list 10 recovery codes, got ${JSON.stringify(recoveryCodes)}`);
    for (const code of recoveryCodes) {
      assert.match(code, RECOVERY_CODE_PATTERN, 'each recovery code should be six groups of four base32 letters');
    }
    await assertAccessible(memberPage);
  });

  step('member can open Change password', async () => {
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('link', { name: 'Change password' }));

    await assertPath(memberPage, '/security/password', 'with two-factor on, the "Change password" link should open /security/password');
    assert.equal(await headingText(memberPage), 'Change password', 'the Change password page should have its heading');
    await assertAccessible(memberPage);
  });

  step('Two-factor page says it is required', async () => {
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('link', { name: 'Two-factor' }));

    await assertOnTwoFactorPage('the "Two-factor" link should open the Two-factor page');
    const status = await memberPage.locator('main p').first().innerText();
    assert.equal(
      status,
      'Two-factor authentication is on. Your Team Master requires it, so it cannot be turned off.',
      'the Two-factor page should say that two-factor is on and required',
    );
    assert.equal(await memberPage.getByRole('switch').count(), 0, 'a member who must use two-factor should get no switch to turn it off');
  });

  step('Team page shows member Enabled', async ({ page }) => {
    await page.reload();

    assert.equal(await headingText(page), 'Team', 'reloading should keep the Team page open');
    const members = await readTableRows(membersTable(page));
    const member = members.find((row) => row.Username === MEMBER_EMAIL);
    assert.ok(member, `the members table should list ${MEMBER_EMAIL}, got ${JSON.stringify(members)}`);
    assert.equal(member.Name, MEMBER_NAME, 'the member row should show the name from the invitation');
    assert.equal(member.Role, 'Team Member', 'the member row should show the role "Team Member"');
    assert.equal(member['Two-factor'], 'Enabled', 'the member row should show two-factor as Enabled');
    assert.match(member['Last sign-in'], UTC_MINUTE_PATTERN, 'joining should count as the member\'s first sign-in');
    assert.equal(await page.getByText('No invitation is waiting.').count(), 1, 'the accepted invitation should no longer be pending');
    await assertAccessible(page);
  });

  step('filter lists members by two-factor', async ({ page }) => {
    assert.deepEqual(await filterMembers(page, 'Enabled'), [MEMBER_EMAIL], 'the "Enabled" filter should list only the member');
    assert.deepEqual(await filterMembers(page, 'Not set up'), [MASTER_EMAIL], 'the "Not set up" filter should list only the Team Master');
    assert.deepEqual(await filterMembers(page, 'Required but not set up'), [], 'no one should be required to use two-factor without it');
    assert.equal(await page.getByText('No member matches this filter.').count(), 1, 'an empty filter result should say so');
    await assertAccessible(page);

    const all = await filterMembers(page, 'All');
    assert.deepEqual([...all].sort(), [MASTER_EMAIL, MEMBER_EMAIL].sort(), 'the "All" filter should list both');
  });

  step('CSV export lists member Enabled', async ({ page }) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);

    assert.equal(new URL(download.url()).pathname, '/team/members.csv', 'the "Export CSV" link should download /team/members.csv');
    assert.equal(download.suggestedFilename(), 'outpost-team.csv', 'the download should be named outpost-team.csv');
    const text = await readFile(await download.path(), 'utf8');
    assert.equal(text.slice(0, text.indexOf('\r\n')), CSV_HEADER, `the CSV header line should be ${CSV_HEADER}`);
    const rows = parseCsv(text).slice(1);
    assert.equal(rows.length, 2, `the CSV should have a row for the Team Master and one for the member, got ${JSON.stringify(rows)}`);

    const memberRows = rows.filter((row) => row[0] === MEMBER_EMAIL);
    assert.equal(memberRows.length, 1, `the CSV should have one row for ${MEMBER_EMAIL}, got ${JSON.stringify(rows)}`);
    const [, name, role, twoFactor, lastSignIn] = memberRows[0];
    assert.equal(name, MEMBER_NAME, 'the member row should keep the name with its comma and umlaut');
    assert.equal(role, 'Team Member', 'the member row should give the role "Team Member"');
    assert.equal(twoFactor, 'Enabled', 'the member row should say that two-factor is Enabled');
    assert.match(lastSignIn, UTC_MINUTE_PATTERN, 'the member row should give the last sign-in in UTC');
    assert.ok(text.includes(`"${MEMBER_NAME}"`), 'the CSV should quote the name, because it contains a comma');
  });

  step('Remove asks for confirmation', async ({ page }) => {
    const memberRow = membersTable(page).locator('tbody tr').filter({ hasText: MEMBER_EMAIL });
    await clickAndWaitForLoad(page, memberRow.getByRole('link', { name: 'Remove' }));

    assert.match(new URL(page.url()).pathname, /^\/team\/members\/[^/]+\/remove$/, 'the "Remove" link should open the member\'s remove page');
    assert.equal(await headingText(page), `Remove ${MEMBER_EMAIL}`, 'the remove page should name the member');
    await assertAccessible(page);
  });

  step('confirming removes member', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Remove member' }));

    await assertPath(page, '/team', 'removing the member should return to /team');
    assert.equal(await page.getByRole('status').innerText(), 'Member removed: their sessions have ended.', 'the Team page should confirm the removal');
    const members = await readTableRows(membersTable(page));
    assert.deepEqual(members.map((row) => row.Username), [MASTER_EMAIL], 'only the Team Master should remain in the members table');
    await assertAccessible(page);
  });

  step('removed member lands on sign-in', async () => {
    await memberPage.reload();

    await assertPath(memberPage, '/sign-in', 'the removed member\'s next page load should land on /sign-in');
    assert.equal(await headingText(memberPage), 'Sign in', 'the sign-in page should have the heading "Sign in"');
    await assertAccessible(memberPage);
  });

  step('removed member cannot sign in', async () => {
    await memberPage.getByLabel('Email address').fill(MEMBER_EMAIL);
    await memberPage.getByLabel('Password', { exact: true }).fill(MEMBER_PASSWORD);
    await clickAndWaitForLoad(memberPage, memberPage.getByRole('button', { name: 'Sign in' }));

    await assertPath(memberPage, '/sign-in', 'a removed member\'s sign-in should stay on /sign-in');
    const alert = await memberPage.getByRole('alert').innerText();
    assert.ok(
      alert.startsWith('The email address or password is incorrect.'),
      `a removed member's password should be rejected with the standard message, got ${JSON.stringify(alert)}`,
    );
    await assertAccessible(memberPage);
  });

  step('team-wide requirement blocks Team Master', async ({ page, server }) => {
    await page.goto(new URL('/team', server.url).href);
    // outpost.js submits the switch's form on change.
    const teamSwitch = page.getByRole('switch', { name: 'Require two-factor authentication of everyone in the team, you included' });
    await clickAndWaitForLoad(page, teamSwitch);

    await assertPath(page, TWO_FACTOR_PATH, 'requiring two-factor team-wide should send the Team Master, who has none, to the Two-factor page');
    assert.equal(await headingText(page), 'Two-factor authentication', 'the Two-factor page should have its heading');
    await page.goto(new URL('/team', server.url).href);
    await assertPath(page, TWO_FACTOR_PATH, 'the Team page should stay closed until the Team Master sets up two-factor');
    await assertAccessible(page);
  });
});
