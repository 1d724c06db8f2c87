// Starts the outpost release binary on a free loopback port with a fresh data directory, and
// stops it with SIGTERM.

import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The binary under test: $OUTPOST_BIN, or the release build next to this folder. */
export const OUTPOST_BIN = path.resolve(E2E_DIR, process.env.OUTPOST_BIN ?? '../target/release/outpost');

/** How long the server may take to print its address, in milliseconds. */
const START_TIMEOUT_MS = 60_000;
/** How long the server may take to exit after SIGTERM, in milliseconds. */
const STOP_TIMEOUT_MS = 15_000;

const READY_LINE = /^Outpost is running\. Open (http:\/\/127\.0\.0\.1:\d+) in a browser\.$/;

function readLogTail(logPath) {
  try {
    return readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
  } catch (error) {
    return `(failed to read ${logPath}: ${error.message})`;
  }
}

function hasExited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function describeExit(child) {
  return child.signalCode !== null ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
}

/**
 * Runs `outpost serve` with `dataDir` and, when given, `databaseUrl`. `settings` contains
 * further OUTPOST_* environment variables for the server, such as
 * { OUTPOST_TOTP_ISSUER: 'A&B Networks' }. The server's standard error goes to `logPath`.
 * Returns { url, stop } once the server prints its address; `stop` sends SIGTERM and rejects
 * unless the server exits with code 0.
 */
export async function startServer({ dataDir, databaseUrl, logPath, settings = {} }) {
  // Inherited OUTPOST_* settings (an SMTP host, a public URL) would change where the server
  // sends mail and links, so the child gets only the settings given here.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OUTPOST_')));
  for (const [name, value] of Object.entries(settings)) {
    if (!name.startsWith('OUTPOST_') || name === 'OUTPOST_DATABASE_URL') {
      throw new Error(`invalid server setting ${JSON.stringify(name)}: settings must be OUTPOST_* variables, and the database URL goes in databaseUrl`);
    }
    env[name] = value;
  }
  if (databaseUrl !== undefined) {
    env.OUTPOST_DATABASE_URL = databaseUrl;
  }

  const child = spawn(OUTPOST_BIN, ['serve', '--bind', '127.0.0.1:0', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath);
  child.stderr.pipe(log);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stdoutLines = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`outpost did not print its address within ${START_TIMEOUT_MS / 1000} s; standard output so far: ${JSON.stringify(stdoutLines)}; log ${logPath}:\n${readLogTail(logPath)}`));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`failed to start ${OUTPOST_BIN}: ${error.message}`));
    });
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`outpost stopped with ${describeExit(child)} before printing its address; log ${logPath}:\n${readLogTail(logPath)}`));
    });
    // The reader keeps draining standard output after the address line, so the pipe never fills.
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdoutLines.push(line);
      const match = READY_LINE.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });

  async function stop() {
    process.off('exit', killOnExit);
    if (!hasExited(child)) {
      child.kill('SIGTERM');
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timed out'), STOP_TIMEOUT_MS);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timed out') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`outpost did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed; log ${logPath}`);
      }
    }
    if (child.exitCode !== 0) {
      throw new Error(`outpost stopped with ${describeExit(child)}, expected exit code 0 after SIGTERM; log ${logPath}:\n${readLogTail(logPath)}`);
    }
  }

  return { url, stop };
}
