// Reads the messages that the server writes to <data-dir>/outbox when no SMTP server is set.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Returns the names of the .eml files in `outbox`, oldest first by modification time. */
export function listMessages(outbox) {
  return readdirSync(outbox)
    .filter((name) => name.endsWith('.eml'))
    .map((name) => ({ name, modified: statSync(path.join(outbox, name)).mtimeMs }))
    .sort((a, b) => a.modified - b.modified || a.name.localeCompare(b.name))
    .map((entry) => entry.name);
}

function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses a single-part RFC 5322 message into { headers, body }. Header names are lower case,
 * and the body is decoded from its Content-Transfer-Encoding (7bit, 8bit, quoted-printable
 * or base64) as UTF-8.
 */
export function parseMessage(raw) {
  const separator = /\r?\n\r?\n/.exec(raw);
  const headerText = separator === null ? raw : raw.slice(0, separator.index);
  const encodedBody = separator === null ? '' : raw.slice(separator.index + separator[0].length);

  const headers = {};
  for (const line of headerText.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }

  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let body;
  if (encoding === 'quoted-printable') {
    body = decodeQuotedPrintable(encodedBody);
  } else if (encoding === 'base64') {
    body = Buffer.from(encodedBody.replace(/\s+/g, ''), 'base64').toString('utf8');
  } else {
    body = encodedBody;
  }
  return { headers, body };
}

/**
 * Waits until `outbox` contains an .eml file not named in `previousNames` whose body has a line
 * for which `findLine` returns true, and returns { name, headers, body, line } for the newest
 * such file. Polling covers the server sending mail in the background and a file that is
 * still being written.
 */
export async function waitForMessageLine(outbox, previousNames, findLine, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fresh = listMessages(outbox).filter((name) => !previousNames.includes(name));
    const newest = fresh.at(-1);
    if (newest !== undefined) {
      const message = parseMessage(readFileSync(path.join(outbox, newest), 'utf8'));
      const line = message.body.split(/\r?\n/).map((text) => text.trim()).find(findLine);
      if (line !== undefined) {
        return { name: newest, ...message, line };
      }
    }
    if (Date.now() > deadline) {
      const state = newest === undefined ? 'no new .eml file appeared' : `the newest new file ${newest} has no matching line`;
      throw new Error(`waited ${timeoutMs / 1000} s for a message in ${outbox}, but ${state}`);
    }
    await sleep(100);
  }
}

/** Reads every .eml file in `outbox`, oldest first, as { name, headers, body }. */
export function readMessages(outbox) {
  return listMessages(outbox).map((name) => ({ name, ...parseMessage(readFileSync(path.join(outbox, name), 'utf8')) }));
}

/**
 * Waits until `outbox` contains a message with each subject in `subjects` and returns all
 * messages of `outbox` as readMessages does. Polling covers messages that the server sends
 * in the background.
 */
export async function waitForSubjects(outbox, subjects, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = readMessages(outbox);
    const found = new Set(messages.map((message) => message.headers.subject));
    const missing = subjects.filter((subject) => !found.has(subject));
    if (missing.length === 0) {
      return messages;
    }
    if (Date.now() > deadline) {
      throw new Error(`waited ${timeoutMs / 1000} s for messages in ${outbox}, but these subjects are missing: ${JSON.stringify(missing)}; subjects found: ${JSON.stringify([...found])}`);
    }
    await sleep(100);
  }
}
