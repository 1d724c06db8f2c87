// Finds the external programs the suite needs and decides whether a missing one skips the
// suite (a developer's machine) or fails it (CI=true).

import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** True when the suite runs in CI, where a missing tool must fail the run. */
export const IN_CI = process.env.CI === 'true';

/** Returns whether `file` exists and is executable. */
export function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Returns the absolute path of `name` found on PATH, or null. */
export function findOnPath(name) {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    if (folder === '') {
      continue;
    }
    const candidate = path.join(folder, name);
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  return null;
}

/**
 * Returns one message per missing tool, naming the Debian package that provides it.
 * Each requirement is { name, path, debianPackage } where `path` is an absolute path or null
 * to search PATH for `name`. A tool that no Debian package provides, such as a binary of this
 * repository, gives `installHint` in place of `debianPackage`: the message's advice on how
 * to get it.
 */
export function listMissingTools(requirements) {
  const missing = [];
  for (const tool of requirements) {
    const found = tool.path === null ? findOnPath(tool.name) !== null : isExecutable(tool.path);
    if (!found) {
      const where = tool.path ?? `PATH (${process.env.PATH ?? ''})`;
      const advice = tool.installHint ?? `install the Debian package ${tool.debianPackage}`;
      missing.push(`${tool.name} is missing from ${where}: ${advice}`);
    }
  }
  return missing;
}
