// Runs the outpost-collector agent binary against the test server. Every command is checked
// to point at a loopback server, and the agent gets an environment without OUTPOST_* settings
// and proxy variables, so it can reach only the server that the flow started.

import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The agent under test: $OUTPOST_COLLECTOR_BIN, or the release build next to this folder. */
export const OUTPOST_COLLECTOR_BIN = path.resolve(E2E_DIR, process.env.OUTPOST_COLLECTOR_BIN ?? '../target/release/outpost-collector');

/** The agent binary as a requirement for describeBrowserFlow's `tools` option. */
export const COLLECTOR_TOOL = {
  name: 'outpost-collector',
  path: OUTPOST_COLLECTOR_BIN,
  installHint: "build it with 'cargo build --release -p outpost-collector' or set OUTPOST_COLLECTOR_BIN",
};

/** Exit code of the agent when the server no longer accepts its credential (crates/outpost-collector/src/main.rs). */
export const EXIT_REVOKED = 3;

/** How long a one-shot command (activate, --version) may take, in milliseconds. */
const COMMAND_TIMEOUT_MS = 30_000;
/** How long `run` may take to exit after SIGTERM, in milliseconds. */
const STOP_TIMEOUT_MS = 15_000;

const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

/**
 * Returns the agent's environment: the suite's own without OUTPOST_* settings (a state file
 * or key from the caller's shell) and without proxy variables, which reqwest would follow
 * away from loopback. RUST_LOG=info keeps the log lines that the flow waits for, and
 * NO_COLOR=1 keeps them free of colour codes.
 */
function collectorEnvironment() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OUTPOST_') && !/_proxy$/i.test(name)));
  env.RUST_LOG = 'info';
  env.NO_COLOR = '1';
  return env;
}

/** Throws unless `url` is an http:// URL on 127.0.0.1, the only address the agent may be given. */
function assertLoopbackServer(url, source) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') {
    throw new Error(`invalid server URL ${JSON.stringify(url)} in ${source}: the suite runs outpost-collector only against its own server on http://127.0.0.1`);
  }
}

function describeExit({ exitCode, signal }) {
  return signal !== null ? `signal ${signal}` : `exit code ${exitCode}`;
}

/**
 * Runs outpost-collector with `args` until it exits and returns { exitCode, signal, stdout,
 * stderr }. The agent is killed with SIGKILL when it runs longer than `timeoutMs`, and the
 * returned promise then rejects.
 */
async function runCommand(args, timeoutMs = COMMAND_TIMEOUT_MS) {
  const child = spawn(OUTPOST_COLLECTOR_BIN, args, { env: collectorEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    // 'close' waits for both pipes to be drained, so stdout and stderr are complete.
    const [exitCode, signal] = await new Promise((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`failed to start ${OUTPOST_COLLECTOR_BIN}: ${error.message}`)));
      child.once('close', (code, signalName) => resolve([code, signalName]));
    });
    if (timedOut) {
      throw new Error(`outpost-collector ${args.join(' ')} did not exit within ${timeoutMs / 1000} s and was killed; standard error: ${JSON.stringify(stderr.replace(ANSI_ESCAPE, ''))}`);
    }
    return { exitCode, signal, stdout: stdout.replace(ANSI_ESCAPE, ''), stderr: stderr.replace(ANSI_ESCAPE, '') };
  } finally {
    clearTimeout(timer);
  }
}

/** Returns the version that `outpost-collector --version` prints, such as "0.1.0". */
export async function readCollectorVersion() {
  const result = await runCommand(['--version']);
  const match = /^outpost-collector (\S+)\n?$/.exec(result.stdout);
  if (result.exitCode !== 0 || match === null) {
    throw new Error(`outpost-collector --version ended with ${describeExit(result)} and printed ${JSON.stringify(result.stdout)}, expected "outpost-collector VERSION"`);
  }
  return match[1];
}

/**
 * Runs `outpost-collector --state-file STATE_FILE activate --server SERVER_URL --key=KEY`
 * and returns { exitCode, signal, stdout, stderr } whatever the exit code. Throws before
 * starting the agent unless `serverUrl` is a loopback server.
 */
export async function activateCollector({ serverUrl, key, stateFile }) {
  assertLoopbackServer(serverUrl, '--server');
  return runCommand(['--state-file', stateFile, 'activate', '--server', serverUrl, `--key=${key}`]);
}

/**
 * An `outpost-collector run` process. Its standard output and standard error go to `logPath`,
 * and standard error is also kept in memory for waitForStderrLines.
 */
export class CollectorRun {
  #child;
  #exited;
  #stderr = '';

  /**
   * Starts `outpost-collector --state-file STATE_FILE run`. Throws before starting the agent
   * unless the state file names a loopback server.
   */
  constructor({ stateFile, logPath }) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    assertLoopbackServer(state.server, `the "server" field of ${stateFile}`);

    this.#child = spawn(OUTPOST_COLLECTOR_BIN, ['--state-file', stateFile, 'run'], { env: collectorEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logPath);
    this.#child.stdout.pipe(log, { end: false });
    this.#child.stderr.setEncoding('utf8').on('data', (chunk) => {
      this.#stderr += chunk;
      log.write(chunk);
    });
    // 'close' fires once the process has exited and both pipes are drained.
    this.#exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#stderr += `failed to start ${OUTPOST_COLLECTOR_BIN}: ${error.message}\n`;
      });
      this.#child.once('close', (exitCode, signal) => {
        log.end();
        resolve({ exitCode, signal });
      });
    });

    const killOnExit = () => this.#child.kill('SIGKILL');
    process.on('exit', killOnExit);
    this.#exited.then(() => process.off('exit', killOnExit));
  }

  /** The process id of the agent. */
  get pid() {
    return this.#child.pid;
  }

  /** The agent's standard error so far, without colour codes. */
  get stderr() {
    return this.#stderr.replace(ANSI_ESCAPE, '');
  }

  /** Whether the agent is still running. */
  get running() {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Waits until the agent's standard error has at least `count` lines that match `pattern`,
   * and returns those lines. Rejects when the agent exits first or `timeoutMs` passes.
   */
  async waitForStderrLines(pattern, count, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.stderr.split('\n').filter((line) => pattern.test(line));
      if (lines.length >= count) {
        return lines;
      }
      if (!this.running) {
        throw new Error(`outpost-collector run stopped before logging ${count} line(s) matching ${pattern}; standard error: ${JSON.stringify(this.stderr)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`waited ${timeoutMs / 1000} s for ${count} line(s) matching ${pattern} from outpost-collector run, found ${lines.length}; standard error: ${JSON.stringify(this.stderr)}`);
      }
      await sleep(100);
    }
  }

  /**
   * Waits for the agent to exit by itself and returns { exitCode, signal, stderr }. Rejects
   * when it still runs after `timeoutMs`; the agent keeps running then.
   */
  async waitForExit(timeoutMs) {
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const exit = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    if (exit === null) {
      throw new Error(`outpost-collector run (process ${this.pid}) still runs after ${timeoutMs / 1000} s; standard error: ${JSON.stringify(this.stderr)}`);
    }
    return { ...exit, stderr: this.stderr };
  }

  /**
   * Sends SIGTERM and returns { exitCode, signal, stderr } once the agent exits. An agent that
   * still runs STOP_TIMEOUT_MS later is killed with SIGKILL, and the promise then rejects.
   */
  async stop() {
    if (this.running) {
      this.#child.kill('SIGTERM');
    }
    try {
      return await this.waitForExit(STOP_TIMEOUT_MS);
    } catch (error) {
      this.#child.kill('SIGKILL');
      await this.#exited;
      throw new Error(`outpost-collector run did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed: ${error.message}`);
    }
  }
}
