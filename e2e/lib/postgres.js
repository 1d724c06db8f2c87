// A throwaway PostgreSQL database per server start, so runs that share one PostgreSQL
// server never see each other's users or sessions.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long to wait for a PostgreSQL server that was just started, in milliseconds. */
const STARTUP_TIMEOUT_MS = 30_000;

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/**
 * Parses a postgres:// URL and checks that it points at this machine, because the suite
 * sends traffic only to servers on the loopback interface.
 */
export function parseLoopbackUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`OUTPOST_DATABASE_URL ${JSON.stringify(text)} is not a URL; use the form postgres://USER@127.0.0.1:5432/DB`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`OUTPOST_DATABASE_URL must start with postgres://, got ${JSON.stringify(url.protocol)}`);
  }
  const isLoopback = LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  if (!isLoopback) {
    throw new Error(`OUTPOST_DATABASE_URL host ${JSON.stringify(url.hostname)} is not a loopback address; the suite only uses a PostgreSQL server on this machine (127.0.0.1)`);
  }
  return url;
}

async function isReady(host, port) {
  try {
    await run('pg_isready', ['-h', host, '-p', port]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the local PostgreSQL cluster named `main` with pg_ctlcluster when pg_isready finds
 * no server at the URL's host and port, then waits until it accepts connections.
 */
export async function ensurePostgresRunning(url) {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || '5432';
  if (await isReady(host, port)) {
    return;
  }

  // NOTE: with several PostgreSQL versions installed this starts the newest one's cluster.
  // This start path is untested, because PostgreSQL was already running in every run so far.
  const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) {
    throw new Error('pg_isready found no PostgreSQL server and /etc/postgresql has no cluster to start; install the Debian package postgresql');
  }
  const version = versions[versions.length - 1];
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await isReady(host, port))) {
    if (Date.now() > deadline) {
      throw new Error(`PostgreSQL ${version}/main was started but ${host}:${port} did not accept connections within ${STARTUP_TIMEOUT_MS / 1000} s`);
    }
    await sleep(250);
  }
}

async function runSql(url, sql) {
  try {
    await run('psql', ['--no-psqlrc', '--quiet', '-v', 'ON_ERROR_STOP=1', '--dbname', url.href, '--command', sql]);
  } catch (error) {
    throw new Error(`psql failed to run ${JSON.stringify(sql)} on ${url.host}: ${error.stderr || error.message}`);
  }
}

/**
 * Creates a database named outpost_e2e_<random hex> on the server of `adminUrl` (connecting
 * to the database that `adminUrl` names) and returns { url, name, drop }.
 */
export async function createDatabase(adminUrl) {
  const name = `outpost_e2e_${randomBytes(6).toString('hex')}`;
  await runSql(adminUrl, `CREATE DATABASE ${name}`);

  const url = new URL(adminUrl.href);
  url.pathname = `/${name}`;
  const drop = () => runSql(adminUrl, `DROP DATABASE IF EXISTS ${name}`);
  return { url, name, drop };
}
