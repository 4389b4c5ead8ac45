#!/usr/bin/env node
// npm run mutate -- <src dir or file> [stryker options]: mutation testing of one directory or file under src/
// (docs/testing.md, "Mutation testing"). Checks the path before any work, then runs StrykerJS with
// stryker.config.mjs, mutating only that path, with an incremental file of its own
// (reports/mutation/<path>.incremental.json, git-ignored) so that the next run of the same path re-tests only
// the mutants whose code or tests changed. Extra options go to `stryker run` (e.g. --force to redo everything).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');

function fail(message) {
  process.stderr.write(`mutate: ${message}\n`);
  process.exit(2);
}

/** The path relative to the root, checked: an existing .ts file or directory under src/. */
function srcPath(arg) {
  const abs = resolve(process.env.INIT_CWD ?? process.cwd(), arg); // npm run starts in the root; INIT_CWD is the user's
  if (!existsSync(abs)) fail(`no such file or directory: ${arg}`);
  const rel = relative(root, abs).split(sep).join('/');
  if (rel !== 'src' && !rel.startsWith('src/')) fail(`${arg} is not under src/`);
  if (!statSync(abs).isDirectory() && !rel.endsWith('.ts')) fail(`${arg} is not a .ts file`);
  return rel;
}

const [target, ...rest] = process.argv.slice(2);
if (target === undefined || target.startsWith('-'))
  fail('usage: npm run mutate -- <src dir or file> [stryker options]');
const path = srcPath(target);
const glob = statSync(join(root, path)).isDirectory() ? `${path}/**/*.ts` : path;
const incrementalFile = join('reports', 'mutation', `${path.replaceAll('/', '-')}.incremental.json`);
const stryker = join(root, 'node_modules', '.bin', 'stryker');
const run = spawnSync(
  stryker,
  ['run', 'stryker.config.mjs', '--mutate', glob, '--incrementalFile', incrementalFile, ...rest],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
