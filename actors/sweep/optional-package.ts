/**
 * Packages only sweeps use (the worker-process pool, the Redis queue) are optional dependencies:
 * an install without them (`npm install --omit=optional`) still runs scenarios, and `sweep` or
 * `worker` says which package it needs instead of failing with a stack trace. They are loaded
 * here, when a sweep needs them, never at start-up.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../package-root';

/** A package a sweep needs is not installed; the message names it and how to install it. */
export class MissingPackageError extends Error {
  override readonly name = 'MissingPackageError';
}

/** The version our package.json asks for (optionalDependencies), for the install hint. */
function wantedVersion(name: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return manifest.optionalDependencies?.[name] ?? manifest.dependencies?.[name];
  } catch {
    return undefined;
  }
}

/** `require(name)`, or a MissingPackageError saying that `purpose` needs it. */
export function loadOptional<T>(name: string, purpose: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only the package itself missing; an error inside it (or a package it needs) is its own.
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${name}'`)) {
      const version = wantedVersion(name);
      throw new MissingPackageError(
        `${purpose} needs the package "${name}", which is not installed (an optional dependency of hv-balloon-sim): npm install ${name}${version ? `@${version}` : ''}`,
      );
    }
    throw err;
  }
}
