// A collector's life in a real browser, with the real outpost-collector agent on loopback. The
// Team Master adds a collector on the Subscriptions page and activates the agent with the key
// shown there. A used key and renewed-away keys are rejected, and activating again with the
// newest key revokes the earlier credential. The running agent makes the collector Connected
// with its version, IP and MAC address, and Delete is refused while it is connected. The
// Team Master renames the collector and cleans it up, and the History page records both.
// After SIGTERM the collector turns Disconnected and can be deleted. The agent then stops by
// itself with exit code 3, because the server no longer accepts its credential.
// Each step continues from the page the previous step left open.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { assertAccessible } from '../lib/browser.js';
import { COLLECTOR_TOOL, CollectorRun, EXIT_REVOKED, activateCollector, readCollectorVersion } from '../lib/collector.js';
import { assertPath, clickAndWaitForLoad, describeBrowserFlow, headingText, readTableRows } from '../lib/flow.js';

/** Seconds between the agent's heartbeats, a value the server sends in each heartbeat response. */
const HEARTBEAT_INTERVAL_SECONDS = 1;
/** Seconds after the last heartbeat at which the server shows a collector as Disconnected. */
const OFFLINE_AFTER_SECONDS = 4;
const SERVER_SETTINGS = {
  OUTPOST_HEARTBEAT_INTERVAL: String(HEARTBEAT_INTERVAL_SECONDS),
  OUTPOST_COLLECTOR_OFFLINE_AFTER: String(OFFLINE_AFTER_SECONDS),
};

/**
 * How long a page may take to show a change of the connection, in milliseconds: the offline
 * window, plus the server's heartbeat batches (written at least once a second), plus slack
 * for a slow machine.
 */
const CONNECTION_CHANGE_TIMEOUT_MS = (OFFLINE_AFTER_SECONDS + 6) * 1000;
/** How long a deleted collector's agent may take to stop by itself, in milliseconds. */
const REVOKED_EXIT_TIMEOUT_MS = 10_000;
/** How long the running agent may take to send its first inventory, in milliseconds. */
const INVENTORY_TIMEOUT_MS = 15_000;

const MASTER_EMAIL = 'collector.master@example.com';
const MASTER_PASSWORD = 'lantern orchard copper signal';
const COLLECTOR_NAME = 'Contoso, Berlin office';
// The en dash and umlaut check that the name keeps its UTF-8 characters.
const NEW_COLLECTOR_NAME = 'Contoso – Lübeck warehouse';
const CONFIGURED_INTERVAL_MINUTES = '30';
// Documentation addresses (RFC 5737), so no device on a real network matches them.
const CONFIGURED_EXCLUSIONS = ['198.51.100.7', '203.0.113.0/24'];
const DEFAULT_INTERVAL_MINUTES = '15';

const ACTIVATION_COMMAND_PATTERN = /^outpost-collector activate --server (\S+) --key=(\S+)$/;
/** A key from the server's Token::generate: 32 random bytes in base64url without padding. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const ACTIVATED_PATTERN = /^Activated collector (\S+) on (.+) \((\S+), (\S+)\)\. Start it with: outpost-collector run$/;
const INVENTORY_LINE_PATTERN = /sent the inventory devices=(\d+)/;

/** Reads the collector page's details table as an object keyed by the row headers' text. */
async function readDetails(page) {
  const details = {};
  const table = page.getByRole('table').filter({ has: page.getByRole('rowheader', { name: 'Collector ID' }) });
  for (const row of await table.locator('tbody tr').all()) {
    const label = await row.getByRole('rowheader').innerText();
    details[label.trim()] = (await row.getByRole('cell').innerText()).trim();
  }
  return details;
}

/** Returns the collector page's table of devices, found by its "IP address" column. */
function devicesTable(page) {
  return page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'IP address' }) });
}

/** Reads the table on the Subscriptions page. */
function readCollectorRows(page) {
  return readTableRows(page.getByRole('table'));
}

/** Reads the table on the Collector history page. */
function readHistoryRows(page) {
  return readTableRows(page.getByRole('table'));
}

/**
 * Reloads `page` until `readState(page)` returns a value for which `isDone` returns true,
 * and returns that value. Fails with `description` and the last value after `timeoutMs`.
 */
async function reloadUntil(page, readState, isDone, timeoutMs, description) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readState(page);
    if (isDone(state)) {
      return state;
    }
    if (Date.now() > deadline) {
      assert.fail(`waited ${timeoutMs / 1000} s for ${description}; the page at ${new URL(page.url()).pathname} last showed ${JSON.stringify(state)}`);
    }
    await sleep(250);
    await page.reload();
  }
}

/** Reads the activation command from the activation key page and returns { serverUrl, key }. */
async function readActivationCommand(page) {
  const command = (await page.locator('#activation-command').innerText()).trim();
  const match = ACTIVATION_COMMAND_PATTERN.exec(command);
  assert.ok(match, `the page should show "outpost-collector activate --server URL --key=KEY", got ${JSON.stringify(command)}`);
  assert.match(match[2], KEY_PATTERN, 'the activation key should be 43 base64url characters');
  return { serverUrl: match[1], key: match[2] };
}

/** Returns the MAC address of the interface of this machine that has the address `ip`, or undefined. */
function findMacOfAddress(ip) {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = addresses?.find((address) => address.address === ip);
    if (found !== undefined) {
      return found.mac;
    }
  }
  return undefined;
}

/** Fails unless the agent's run ended with exit code 3 and the message about the revoked credential. */
function assertRevokedExit(exit, situation) {
  assert.equal(exit.signal, null, `${situation}, the agent should exit by itself, not by a signal; standard error: ${JSON.stringify(exit.stderr)}`);
  assert.equal(exit.exitCode, EXIT_REVOKED, `${situation}, the agent should exit with code ${EXIT_REVOKED}; standard error: ${JSON.stringify(exit.stderr)}`);
  assert.ok(
    exit.stderr.includes("The server no longer accepts this collector's credential: the collector was deleted"),
    `${situation}, the agent should say that the collector was deleted; standard error: ${JSON.stringify(exit.stderr)}`,
  );
}

/**
 * Runs the activation command as the page shows it, `--key=KEY`, and returns the agent's
 * result. About one key in 64 starts with "-" (base64url), which the `--key=` form carries.
 */
async function activateAsShown({ serverUrl, key, stateFile }) {
  return activateCollector({ serverUrl, key, stateFile });
}

/** Fails unless the activation failed with the agent's message about an invalid key and wrote no state file. */
function assertKeyRejected(result, stateFile, keyDescription) {
  assert.equal(result.exitCode, 1, `activating with ${keyDescription} should fail with exit code 1; standard output: ${JSON.stringify(result.stdout)}`);
  assert.ok(
    result.stderr.startsWith('error: activation failed: Invalid activation key (403 Forbidden): The activation key is unknown, already used, renewed or older than 7 days.'),
    `activating with ${keyDescription} should say that the key is invalid, got ${JSON.stringify(result.stderr)}`,
  );
  assert.ok(result.stderr.includes("Renew it on the collector's page in the portal."), 'the message should say how to get a working key');
  assert.equal(existsSync(stateFile), false, `a failed activation should not write the state file ${stateFile}`);
}

describeBrowserFlow('collector flow', { tools: [COLLECTOR_TOOL], serverSettings: SERVER_SETTINGS }, ({ step, openPage, addCleanup }) => {
  let agentVersion;
  let collectorPath;
  let collectorId;
  let firstKey;
  let renewedAwayKey;
  let newestKey;
  let firstCredential;
  let newestStateFile;
  let activatedHost;
  let agent;
  let inventoryDeviceCount;
  // A delete page opened while the collector was disconnected, so it still has the button.
  let staleDeletePage;

  async function openCollectorPage(page, server) {
    await page.goto(new URL(collectorPath, server.url).href);
    assert.equal(await headingText(page), NEW_COLLECTOR_NAME, 'the collector page should have the collector\'s name as its heading');
    await assertAccessible(page);
  }

  step('sign-up as Team Master', async ({ page, server }) => {
    agentVersion = await readCollectorVersion();

    await page.goto(new URL('/sign-up', server.url).href);
    assert.equal(await headingText(page), 'Create your Outpost account', 'the sign-up page should have its heading');
    await assertAccessible(page);

    await page.getByLabel('Email address (your username)').fill(MASTER_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(MASTER_PASSWORD);
    await page.getByLabel('Repeat the password').fill(MASTER_PASSWORD);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Create account' }));

    await assertPath(page, '/account', `signing up as ${MASTER_EMAIL} should land on /account`);
    await assertAccessible(page);
  });

  step('Subscriptions link opens empty list', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Subscriptions', exact: true }));

    await assertPath(page, '/collectors', 'the "Subscriptions" link should open /collectors');
    assert.equal(await headingText(page), 'Subscriptions', 'the Subscriptions page should have its heading');
    assert.deepEqual(await readCollectorRows(page), [], 'a new account should have no collector');
    assert.equal(await page.getByText('No collectors yet. Add one to get an activation key for the agent.').count(), 1, 'the empty list should say how to start');
    await assertAccessible(page);
  });

  step('Add collector shows activation key', async ({ page, server }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Add collector' }));
    await assertPath(page, '/collectors/new', 'the "Add collector" button should open /collectors/new');
    assert.equal(await headingText(page), 'Add a collector', 'the add page should have its heading');
    await assertAccessible(page);

    await page.getByLabel('Name').fill(COLLECTOR_NAME);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Add collector' }));

    assert.equal(await headingText(page), `Activation key for ${COLLECTOR_NAME}`, 'adding a collector should show its activation key');
    const command = await readActivationCommand(page);
    assert.equal(command.serverUrl, server.url, 'the activation command should name the server the browser uses');
    firstKey = command.key;
    await assertAccessible(page);
  });

  step('new collector waits for activation', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Go to the collector' }));

    collectorPath = new URL(page.url()).pathname;
    assert.match(collectorPath, /^\/collectors\/[^/]+$/, 'the "Go to the collector" button should open the collector\'s page');
    collectorId = decodeURIComponent(collectorPath.split('/')[2]);
    assert.equal(await headingText(page), COLLECTOR_NAME, 'the collector page should have the collector\'s name as its heading');
    const details = await readDetails(page);
    assert.equal(details['Collector ID'], collectorId, 'the page should show the id from its URL');
    assert.equal(details.Kind, 'Subscription', 'a new collector should be a subscription');
    assert.equal(details['Activation status'], 'Pending', 'a new collector should wait for activation');
    assert.equal(details.Connection, 'Disconnected', 'a new collector should be disconnected');
    assert.equal(details['Last seen'], 'never', 'a new collector should never have been seen');
    await assertAccessible(page);
  });

  step('activate stores credential with mode 0600', async ({ server, workDir }) => {
    const stateFile = path.join(workDir, 'agent-1', 'state.json');
    const result = await activateAsShown({ serverUrl: server.url, key: firstKey, stateFile });

    assert.equal(result.exitCode, 0, `activating with the key from the page should succeed; standard error: ${JSON.stringify(result.stderr)}`);
    const match = ACTIVATED_PATTERN.exec(result.stdout.trim());
    assert.ok(match, `the agent should confirm the activation, got ${JSON.stringify(result.stdout)}`);
    assert.equal(match[1], collectorId, 'the agent should name the collector it activated');
    assert.equal(match[2], os.hostname(), 'the agent should report this machine\'s host name');
    activatedHost = { localIp: match[3], mac: match[4] };

    assert.equal(statSync(stateFile).mode & 0o777, 0o600, `the state file ${stateFile} should have mode 0600`);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    assert.equal(state.server, server.url, 'the state file should keep the server URL');
    assert.equal(state.collector_id, collectorId, 'the state file should keep the collector id');
    assert.equal(typeof state.credential, 'string', 'the state file should keep the credential');
    assert.ok(state.credential.length > 0, 'the stored credential should not be empty');
    assert.notEqual(state.credential, firstKey, 'the credential should not be the activation key');
    firstCredential = state.credential;
  });

  step('used key is rejected', async ({ server, workDir }) => {
    const stateFile = path.join(workDir, 'agent-2', 'state.json');
    const result = await activateAsShown({ serverUrl: server.url, key: firstKey, stateFile });

    assertKeyRejected(result, stateFile, 'the key used once already');
  });

  step('Renew activation key shows new key', async ({ page }) => {
    await page.reload();
    assert.equal((await readDetails(page))['Activation status'], 'Active', 'the activated collector should be Active');

    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Renew activation key' }));
    assert.equal(await headingText(page), `Activation key for ${COLLECTOR_NAME}`, 'renewing should show the new activation key');
    renewedAwayKey = (await readActivationCommand(page)).key;
    assert.notEqual(renewedAwayKey, firstKey, 'the renewed key should differ from the first one');
    await assertAccessible(page);

    // A second renewal voids the unused key from the first one, which the next step tries.
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Go to the collector' }));
    await assertPath(page, collectorPath, 'the "Go to the collector" button should open the collector\'s page');
    await assertAccessible(page);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Renew activation key' }));
    newestKey = (await readActivationCommand(page)).key;
    assert.notEqual(newestKey, renewedAwayKey, 'each renewal should show a new key');
    await assertAccessible(page);
  });

  step('renewed-away keys are rejected', async ({ server, workDir }) => {
    const stateFile = path.join(workDir, 'agent-2', 'state.json');

    assertKeyRejected(await activateAsShown({ serverUrl: server.url, key: firstKey, stateFile }), stateFile, 'the first key after a renewal');
    assertKeyRejected(await activateAsShown({ serverUrl: server.url, key: renewedAwayKey, stateFile }), stateFile, 'an unused key that a later renewal replaced');
  });

  step('newest key activates again', async ({ server, workDir }) => {
    newestStateFile = path.join(workDir, 'agent-3', 'state.json');
    const result = await activateAsShown({ serverUrl: server.url, key: newestKey, stateFile: newestStateFile });

    assert.equal(result.exitCode, 0, `activating with the newest key should succeed; standard error: ${JSON.stringify(result.stderr)}`);
    const match = ACTIVATED_PATTERN.exec(result.stdout.trim());
    assert.ok(match, `the agent should confirm the activation, got ${JSON.stringify(result.stdout)}`);
    assert.equal(match[1], collectorId, 'the newest key should activate the same collector');
    assert.equal(statSync(newestStateFile).mode & 0o777, 0o600, `the state file ${newestStateFile} should have mode 0600`);
    const state = JSON.parse(readFileSync(newestStateFile, 'utf8'));
    assert.equal(state.collector_id, collectorId, 'the new state file should keep the same collector id');
    assert.notEqual(state.credential, firstCredential, 'activating again should issue a new credential');
  });

  step('replaced credential is revoked', async ({ workDir }) => {
    const staleRun = new CollectorRun({ stateFile: path.join(workDir, 'agent-1', 'state.json'), logPath: path.join(workDir, 'agent-1', 'run.log') });
    addCleanup(() => staleRun.stop());

    assertRevokedExit(await staleRun.waitForExit(REVOKED_EXIT_TIMEOUT_MS), 'with the credential that the second activation replaced');
  });

  step('running agent shows Connected in list', async ({ page, server, workDir }) => {
    // Activation counts as contact, so wait for the offline window to pass first: then only
    // the agent's heartbeats can make the collector Connected.
    await page.goto(new URL('/collectors', server.url).href);
    const findRow = (rows) => rows.find((row) => row.Name === COLLECTOR_NAME);
    await reloadUntil(page, readCollectorRows, (rows) => findRow(rows)?.Connection === 'Disconnected', CONNECTION_CHANGE_TIMEOUT_MS, 'the activated collector to turn Disconnected before the agent runs');
    // A second window, signed in with the same session cookie, keeps the delete page of the
    // disconnected collector. A tab in the same context would run in the background, where
    // Chromium throttles rendering and failure screenshots time out.
    staleDeletePage = await openPage('stale delete page');
    await staleDeletePage.context().addCookies(await page.context().cookies());
    await staleDeletePage.goto(new URL(`${collectorPath}/delete`, server.url).href);
    assert.equal(await staleDeletePage.getByRole('button', { name: 'Delete collector' }).count(), 1, 'the delete page of a disconnected collector should offer the delete button');
    await assertAccessible(staleDeletePage);

    agent = new CollectorRun({ stateFile: newestStateFile, logPath: path.join(workDir, 'agent-3', 'run.log') });
    addCleanup(() => agent.stop());
    const rows = await reloadUntil(page, readCollectorRows, (currentRows) => findRow(currentRows)?.Connection === 'Connected', CONNECTION_CHANGE_TIMEOUT_MS, 'the running agent to make the collector Connected');

    const row = findRow(rows);
    assert.equal(row.Kind, 'Subscription', 'the list should show the collector as a subscription');
    assert.equal(row.Activation, 'Active', 'the list should show the collector as Active');
    assert.equal(row.Version, agentVersion, 'the list should show the version that outpost-collector --version prints');
    assert.notEqual(row['Last seen'], 'never', 'the list should show when the collector was last seen');
    assert.ok(agent.running, `the agent should keep running; standard error: ${JSON.stringify(agent.stderr)}`);
    await assertAccessible(page);
  });

  step('collector page shows host details', async ({ page }) => {
    const [inventoryLine] = await agent.waitForStderrLines(INVENTORY_LINE_PATTERN, 1, INVENTORY_TIMEOUT_MS);
    inventoryDeviceCount = Number(INVENTORY_LINE_PATTERN.exec(inventoryLine)[1]);

    await clickAndWaitForLoad(page, page.getByRole('link', { name: COLLECTOR_NAME, exact: true }));
    await assertPath(page, collectorPath, 'the collector\'s name in the list should open its page');
    const details = await readDetails(page);
    assert.equal(details.Connection, 'Connected', 'the collector page should show the running agent as Connected');
    assert.equal(details['Package version'], agentVersion, 'the collector page should show the agent\'s version');
    assert.equal(details['Host name'], os.hostname(), 'the collector page should show this machine\'s host name');
    assert.equal(details['Local IP address'], activatedHost.localIp, 'the collector page should show the IP address that the agent reported');
    assert.equal(details['MAC address'], activatedHost.mac, 'the collector page should show the MAC address that the agent reported');
    assert.equal(
      findMacOfAddress(details['Local IP address']),
      details['MAC address'],
      `the IP address ${details['Local IP address']} should belong to an interface of this machine with the MAC address shown`,
    );

    // The agent sends what the kernel's neighbour tables contain, which may be nothing.
    if (inventoryDeviceCount > 0) {
      const devices = await readTableRows(devicesTable(page));
      assert.ok(devices.length > 0, `the agent sent ${inventoryDeviceCount} device(s), so the page should list them`);
    } else {
      assert.equal(await page.getByText('No devices reported yet.').count(), 1, 'the agent sent no device, so the page should list none');
    }
    await assertAccessible(page);
  });

  step('Delete is refused while connected', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Delete', exact: true }));

    await assertPath(page, `${collectorPath}/delete`, 'the "Delete" link should open the collector\'s delete page');
    assert.equal(await headingText(page), `Delete ${COLLECTOR_NAME}`, 'the delete page should name the collector');
    const alert = await page.getByRole('alert').innerText();
    assert.ok(alert.startsWith(`${COLLECTOR_NAME} is connected`), `the delete page should say that the collector is connected, got ${JSON.stringify(alert)}`);
    assert.ok(alert.includes('Stop the agent on site (outpost-collector) and wait until the collector shows as disconnected'), `the delete page should say what to do first, got ${JSON.stringify(alert)}`);
    assert.equal(await page.getByRole('button', { name: 'Delete collector' }).count(), 0, 'the delete page should offer no delete button while the collector is connected');
    await assertAccessible(page);
  });

  step('Delete from stale page is refused', async () => {
    const isDeleteRequest = (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === `${collectorPath}/delete`;
    const [response] = await Promise.all([
      staleDeletePage.waitForResponse(isDeleteRequest),
      clickAndWaitForLoad(staleDeletePage, staleDeletePage.getByRole('button', { name: 'Delete collector' })),
    ]);

    assert.equal(response.status(), 409, 'the server should answer the delete request of a connected collector with 409 Conflict');

    assert.equal(await headingText(staleDeletePage), `Delete ${COLLECTOR_NAME}`, 'the refusal should keep the delete page');
    const alert = await staleDeletePage.getByRole('alert').innerText();
    assert.ok(alert.startsWith(`${COLLECTOR_NAME} is connected`), `deleting a connected collector should be refused with an explanation, got ${JSON.stringify(alert)}`);
    assert.equal(await staleDeletePage.getByRole('button', { name: 'Delete collector' }).count(), 0, 'the refusal page should offer no delete button');
    await assertAccessible(staleDeletePage);
  });

  step('rename shows in History', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Back to the collector' }));
    await page.getByLabel('Name').fill(NEW_COLLECTOR_NAME);
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Rename', exact: true }));

    await assertPath(page, collectorPath, 'renaming should return to the collector page');
    assert.equal(await page.getByRole('status').innerText(), 'Collector renamed.', 'the collector page should confirm the rename');
    assert.equal(await headingText(page), NEW_COLLECTOR_NAME, 'the heading should show the new name');
    await assertAccessible(page);

    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'History', exact: true }));
    await assertPath(page, '/collectors/history', 'the "History" link should open /collectors/history');
    assert.equal(await headingText(page), 'Collector history', 'the History page should have its heading');
    const renamed = (await readHistoryRows(page)).filter((row) => row.Action === 'renamed');
    assert.equal(renamed.length, 1, `the History page should have one "renamed" entry, got ${JSON.stringify(renamed)}`);
    assert.equal(renamed[0].Collector, NEW_COLLECTOR_NAME, 'the "renamed" entry should show the new name');
    assert.equal(renamed[0].By, MASTER_EMAIL, 'the "renamed" entry should name the Team Master');
    await assertAccessible(page);
  });

  step('configuration saves non-default values', async ({ page, server }) => {
    await openCollectorPage(page, server);
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Configuration', exact: true }));
    assert.equal(await headingText(page), `Configuration of ${NEW_COLLECTOR_NAME}`, 'the Configuration page should name the collector');
    const interval = page.getByLabel('Inventory interval, in minutes (1 to 1440)');
    const exclusions = page.getByLabel('Excluded addresses');
    assert.equal(await interval.inputValue(), DEFAULT_INTERVAL_MINUTES, 'a new collector should send its inventory every 15 minutes');
    assert.equal(await exclusions.inputValue(), '', 'a new collector should exclude no address');
    await assertAccessible(page);

    await interval.fill(CONFIGURED_INTERVAL_MINUTES);
    await exclusions.fill(CONFIGURED_EXCLUSIONS.join('\n'));
    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Save configuration' }));

    assert.equal(await page.getByRole('status').innerText(), 'Configuration saved; the agent picks it up within the hour.', 'the page should confirm the save');
    assert.equal(await interval.inputValue(), CONFIGURED_INTERVAL_MINUTES, 'the saved interval should show after the save');
    assert.equal(await exclusions.inputValue(), CONFIGURED_EXCLUSIONS.join('\n'), 'the saved exclusions should show after the save');
    await assertAccessible(page);
  });

  step('Clean up keeps name and kind', async ({ page }) => {
    const inventoryLinesBefore = agent.stderr.split('\n').filter((line) => INVENTORY_LINE_PATTERN.test(line)).length;
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Back to the collector' }));
    await assertPath(page, collectorPath, 'the "Back to the collector" link should open the collector\'s page');
    await assertAccessible(page);
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Clean up', exact: true }));
    assert.equal(await headingText(page), `Clean up ${NEW_COLLECTOR_NAME}`, 'the clean-up page should name the collector');
    await assertAccessible(page);

    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Clean up', exact: true }));

    await assertPath(page, collectorPath, 'cleaning up should return to the collector page');
    assert.equal(await page.getByRole('status').innerText(), 'Configuration and devices deleted; name and subscription stay.', 'the collector page should confirm the clean-up');
    assert.equal(await headingText(page), NEW_COLLECTOR_NAME, 'the clean-up should keep the name');
    const details = await readDetails(page);
    assert.equal(details.Kind, 'Subscription', 'the clean-up should keep the kind');
    assert.equal(details['Activation status'], 'Active', 'the clean-up should keep the activation');
    // The agent sends its inventory when it starts and then every 15 minutes, so it cannot
    // have refilled the list yet. If it did resend, the log check names that as the cause.
    const inventoryLinesAfter = agent.stderr.split('\n').filter((line) => INVENTORY_LINE_PATTERN.test(line)).length;
    assert.equal(inventoryLinesAfter, inventoryLinesBefore, 'the agent should not have sent its inventory again during the clean-up');
    assert.equal(await page.getByText('No devices reported yet.').count(), 1, 'the clean-up should delete every device');
    await assertAccessible(page);
  });

  step('History shows cleaned up', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'History', exact: true }));

    const cleanedUp = (await readHistoryRows(page)).filter((row) => row.Action === 'cleaned up');
    assert.equal(cleanedUp.length, 1, `the History page should have one "cleaned up" entry, got ${JSON.stringify(cleanedUp)}`);
    assert.equal(cleanedUp[0].Collector, NEW_COLLECTOR_NAME, 'the "cleaned up" entry should name the collector');
    assert.equal(cleanedUp[0].By, MASTER_EMAIL, 'the "cleaned up" entry should name the Team Master');
    assert.match(cleanedUp[0].Details, /^\d+ devices and the configuration deleted$/, 'the "cleaned up" entry should count the deleted devices');
    await assertAccessible(page);
  });

  step('Configuration shows defaults after clean-up', async ({ page, server }) => {
    await openCollectorPage(page, server);
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Configuration', exact: true }));

    assert.equal(await page.getByLabel('Inventory interval, in minutes (1 to 1440)').inputValue(), DEFAULT_INTERVAL_MINUTES, 'the clean-up should reset the interval to 15 minutes');
    assert.equal(await page.getByLabel('Excluded addresses').inputValue(), '', 'the clean-up should remove every excluded address');
    await assertAccessible(page);
  });

  step('SIGTERM stops agent with exit 0', async () => {
    assert.ok(agent.running, `the agent should still run before SIGTERM; standard error: ${JSON.stringify(agent.stderr)}`);
    const exit = await agent.stop();

    assert.equal(exit.signal, null, 'the agent should handle SIGTERM and exit by itself');
    assert.equal(exit.exitCode, 0, `the agent should exit with code 0 after SIGTERM; standard error: ${JSON.stringify(exit.stderr)}`);
    assert.ok(exit.stderr.includes('collector agent stopping'), `the agent should log that it stops, got ${JSON.stringify(exit.stderr)}`);
  });

  step('stopped agent shows Disconnected', async ({ page, server }) => {
    await openCollectorPage(page, server);
    await reloadUntil(page, readDetails, (details) => details.Connection === 'Disconnected', CONNECTION_CHANGE_TIMEOUT_MS, 'the stopped agent\'s collector to turn Disconnected');
    await assertAccessible(page);

    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Subscriptions', exact: true }));
    const row = (await readCollectorRows(page)).find((candidate) => candidate.Name === NEW_COLLECTOR_NAME);
    assert.equal(row?.Connection, 'Disconnected', 'the Subscriptions list should show the collector as Disconnected');
    await assertAccessible(page);
  });

  step('Delete removes collector', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: NEW_COLLECTOR_NAME, exact: true }));
    await assertPath(page, collectorPath, 'the collector\'s new name in the list should open its page');
    await assertAccessible(page);
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'Delete', exact: true }));
    assert.equal(await headingText(page), `Delete ${NEW_COLLECTOR_NAME}`, 'the delete page should name the collector');
    assert.equal(await page.getByRole('alert').count(), 0, 'the delete page should not refuse a disconnected collector');
    await assertAccessible(page);

    await clickAndWaitForLoad(page, page.getByRole('button', { name: 'Delete collector' }));

    await assertPath(page, '/collectors', 'deleting should return to the Subscriptions list');
    assert.equal(await page.getByRole('status').innerText(), 'The collector was deleted with its data and credential.', 'the list should confirm the deletion');
    assert.deepEqual(await readCollectorRows(page), [], 'the list should no longer show the deleted collector');
    await assertAccessible(page);
  });

  step('History shows deleted', async ({ page }) => {
    await clickAndWaitForLoad(page, page.getByRole('link', { name: 'History', exact: true }));

    const rows = await readHistoryRows(page);
    const deleted = rows.filter((row) => row.Action === 'deleted');
    assert.equal(deleted.length, 1, `the History page should have one "deleted" entry, got ${JSON.stringify(rows)}`);
    assert.equal(deleted[0].Collector, NEW_COLLECTOR_NAME, 'the "deleted" entry should name the collector');
    assert.equal(deleted[0].By, MASTER_EMAIL, 'the "deleted" entry should name the Team Master');
    // Entries of the same second may show in any order, so the check sorts them.
    assert.deepEqual(
      rows.map((row) => row.Action).sort(),
      ['activated', 'activated', 'activation key renewed', 'activation key renewed', 'added', 'cleaned up', 'configuration changed', 'deleted', 'renamed'],
      'the History page should list every action on the collector once, and the two activations and renewals twice',
    );
    await assertAccessible(page);
  });

  step('deleted collector stops agent with exit 3', async ({ workDir }) => {
    const startedMs = Date.now();
    const revokedRun = new CollectorRun({ stateFile: newestStateFile, logPath: path.join(workDir, 'agent-3', 'run-after-delete.log') });
    addCleanup(() => revokedRun.stop());

    const exit = await revokedRun.waitForExit(REVOKED_EXIT_TIMEOUT_MS);
    assertRevokedExit(exit, `${Date.now() - startedMs} ms after starting with the deleted collector's credential`);
  });
});
