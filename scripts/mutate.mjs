#!/usr/bin/env node
// npm run mutate -- <src dir or file> [--tests <test dir or file>]... [stryker options]: mutation testing of one
// directory or file under src/ (docs/testing.md, "Mutation testing"). Checks the paths before any work, then runs
// StrykerJS with stryker.config.mjs, mutating only that path, with an incremental file of its own
// (reports/mutation/<path>[@<tests>].incremental.json, git-ignored) so that the next run of the same path
// re-tests only the mutants whose code or tests changed. --tests narrows the tests to a directory or file, and may
// be given more than once (vitest.stryker.config.ts reads them from GRANTVM_MUTATE_TESTS): a quick pass against
// the mirrored tests.
// Other options go to `stryker run` (e.g. --force to redo everything).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');

function fail(message) {
  process.stderr.write(`mutate: ${message}\n`);
  process.exit(2);
}

/** `arg` relative to the root, checked: an existing directory, or file ending in `ext`, under `under`/. */
function checkedPath(arg, under, ext) {
  const abs = resolve(process.env.INIT_CWD ?? process.cwd(), arg); // npm run starts in the root; INIT_CWD is the user's
  if (!existsSync(abs)) fail(`no such file or directory: ${arg}`);
  const rel = relative(root, abs).split(sep).join('/');
  if (rel !== under && !rel.startsWith(`${under}/`)) fail(`${arg} is not under ${under}/`);
  if (!statSync(abs).isDirectory() && !rel.endsWith(ext)) fail(`${arg} is not a ${ext} file`);
  return rel;
}

const usage = 'usage: npm run mutate -- <src dir or file> [--tests <test dir or file>]... [stryker options]';
const [target, ...rest] = process.argv.slice(2);
if (target === undefined || target.startsWith('-')) fail(usage);
const path = checkedPath(target, 'src', '.ts');
const tests = [];
const options = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] !== '--tests') options.push(rest[i]);
  else tests.push(checkedPath(rest[++i] ?? fail(`--tests needs a path; ${usage}`), 'test', '.test.ts'));
}
const glob = statSync(join(root, path)).isDirectory() ? `${path}/**/*.ts` : path;
const name = (tests.length === 0 ? path : `${path}@${tests.join('+')}`).replaceAll('/', '-');
// A file name has at most 255 bytes: a long list of tests is named by a hash of the list instead.
const short =
  name.length <= 200
    ? name
    : `${path.replaceAll('/', '-')}@${createHash('sha256').update(tests.join('+')).digest('hex').slice(0, 16)}`;
const incrementalFile = join('reports', 'mutation', `${short}.incremental.json`);
// The TypeScript checker type-checks each mutant. Over the whole project a change to a widely imported file re-checks
// every file that imports it (seconds per mutant); a program of the mutated files and their imports alone takes a
// fraction of that. A mutant that breaks only an importer's types then runs as a test instead of being dropped.
const tsconfig = 'tsconfig.mutate.json'; // git-ignored, rewritten by every run
writeFileSync(
  join(root, tsconfig),
  `${JSON.stringify({ extends: './tsconfig.json', include: [glob] }, null, 2)}\n`,
);
/** Runs Stryker once on the path; its exit status. */
const stryker = (extra) =>
  spawnSync(
    join(root, 'node_modules', '.bin', 'stryker'),
    ['run', 'stryker.config.mjs', '--mutate', glob, '--incrementalFile', incrementalFile, ...extra],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, GRANTVM_MUTATE_TESTS: tests.join(','), GRANTVM_MUTATE_TSCONFIG: tsconfig },
    },
  ).status ?? 1;

/** A survivor's run completes every test that covers it (no failure stops it): fewer means the run was lost. */
const lostRun = (m) =>
  m.status === 'Survived' && (m.testsCompleted === 0 || m.testsCompleted < (m.coveredBy?.length ?? 0));

/**
 * How many mutants of the incremental file were scored survived although their run completed no test, or fewer
 * than cover them: StrykerJS 9.6.1's Vitest runner, with Vitest 4.1, now and then loses a mutant's run, or part of
 * it (stryker-js issues #6073, #6213). With `drop`, they are taken out of the file, so that the next incremental run
 * tests them again.
 */
function unmeasured(drop) {
  const at = join(root, incrementalFile);
  if (!existsSync(at)) return 0;
  const report = JSON.parse(readFileSync(at, 'utf8'));
  let lost = 0;
  for (const file of Object.values(report.files)) {
    const kept = file.mutants.filter((m) => !lostRun(m));
    lost += file.mutants.length - kept.length;
    file.mutants = kept;
  }
  if (drop && lost > 0) writeFileSync(at, JSON.stringify(report));
  return lost;
}

const RETRIES = 3;
const count = (n) => `${n} mutant${n === 1 ? '' : 's'}`;
let status = stryker(options);
for (let retry = 1; status === 0; retry++) {
  const lost = unmeasured(retry <= RETRIES);
  if (lost === 0) break;
  if (retry > RETRIES) {
    process.stderr.write(
      `mutate: ${count(lost)} scored survived still ran no test or not all of theirs after ${RETRIES} retries: check them by hand\n`,
    );
    break;
  }
  process.stderr.write(
    `mutate: ${count(lost)} scored survived ran no test or not all of theirs (a fault of StrykerJS 9.6.1 with Vitest 4.1); testing them again (${retry} of ${RETRIES})\n`,
  );
  status = stryker(options.filter((o) => o !== '--force'));
}
process.exit(status);
