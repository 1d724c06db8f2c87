// Stands in for the user's authenticator app: zbarimg reads the QR code and oathtool computes
// the TOTP codes, so the server's key URI and codes are checked against tools that share no
// code with it.

import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Length of a TOTP time step, in seconds (the RFC 6238 default that Outpost uses). */
export const STEP_SECONDS = 30;

/** Time to wait past the start of the next step, in milliseconds, so timer jitter cannot leave a code in the used step. */
const STEP_MARGIN_MS = 1_000;

/** zbarimg's exit code when the image contains no barcode (zbarimg(1)). */
const ZBARIMG_NOTHING_FOUND = 4;

/** Decodes the single QR code in the PNG file `pngPath` with `zbarimg --raw -q` and returns its text. */
export async function decodeQrCode(pngPath) {
  let output;
  try {
    output = await run('zbarimg', ['--raw', '-q', pngPath]);
  } catch (error) {
    if (error.code === ZBARIMG_NOTHING_FOUND) {
      throw new Error(`zbarimg found no QR code in ${pngPath}`);
    }
    throw new Error(`zbarimg failed on ${pngPath}: ${error.stderr || error.message}`);
  }
  // --raw prints each symbol's data followed by a newline.
  const symbols = output.stdout.replace(/\n$/, '').split('\n');
  if (symbols.length !== 1) {
    throw new Error(`expected one QR code in ${pngPath}, zbarimg decoded ${symbols.length}: ${JSON.stringify(symbols)}`);
  }
  return symbols[0];
}

/**
 * Computes the 6-digit TOTP code of the base32 key `key` at unix time `unixSeconds` with
 * `oathtool --totp -b`. The key goes to oathtool on standard input, so it never shows in
 * the process list.
 */
export async function computeTotpCode(key, unixSeconds) {
  const running = run('oathtool', ['--totp', '-b', '--now', `@${unixSeconds}`, '-']);
  running.child.stdin.end(`${key}\n`);
  let output;
  try {
    output = await running;
  } catch (error) {
    throw new Error(`oathtool failed: ${error.stderr || error.message}`);
  }
  const code = output.stdout.trim();
  if (!/^\d{6}$/.test(code)) {
    throw new Error(`oathtool printed ${JSON.stringify(code)}, expected a 6-digit code`);
  }
  return code;
}

function currentStep() {
  return Math.floor(Date.now() / 1000 / STEP_SECONDS);
}

/**
 * An authenticator app for one key. The server accepts a code of each time step only once
 * per user, so `nextCode` never returns two codes of the same step.
 */
export class Authenticator {
  #key;
  #lastStep = null;

  constructor(key) {
    this.#key = key;
  }

  /**
   * Returns the code of the current time step. When this object already returned a code of
   * that step, waits for the next step first, which takes at most STEP_SECONDS plus one second.
   */
  async nextCode() {
    if (this.#lastStep !== null && currentStep() <= this.#lastStep) {
      const nextStepStartMs = (this.#lastStep + 1) * STEP_SECONDS * 1000;
      await sleep(nextStepStartMs - Date.now() + STEP_MARGIN_MS);
    }
    const now = Math.floor(Date.now() / 1000);
    this.#lastStep = Math.floor(now / STEP_SECONDS);
    return computeTotpCode(this.#key, now);
  }
}
