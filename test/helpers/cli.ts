// Runs the grantvm CLI as a user would (node bin/grantvm.js ...), output piped, colours off (NO_COLOR), from the
// repository root unless told otherwise. Entry points: grantvm, plainEnv, root, bin, scratchDir.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = join(root, 'bin/grantvm.js');

/** The environment with colours off: NO_COLOR, and no FORCE_COLOR (Node warns when both are set). */
export function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return env;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  timeout?: number;
  /** Replaces the environment (NO_COLOR is not added then). */
  env?: NodeJS.ProcessEnv;
}

export function grantvm(args: readonly string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'utf8',
    env: opts.env ?? plainEnv(),
    timeout: opts.timeout ?? 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch directory outside any project, made before the file's tests and removed after them. */
export function scratchDir(prefix: string): { path: (name: string) => string; file: (name: string, text: string) => string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const path = (name: string): string => join(dir, name);
  return {
    path,
    file: (name, text) => {
      writeFileSync(path(name), text);
      return path(name);
    },
  };
}
