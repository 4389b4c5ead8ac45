// Runs the docs tests share (test/unit/docs/readme, docs, docs_cli): a command line the README and a page of
// docs/ both show is run by whichever host gets to it first, and the others take its result. The CLI is
// deterministic for its command line and the files it reads, so a second run with the same inputs is the same
// run: the key is the command line, the working directory's files it names (their contents) and nothing else (the
// sources are the same throughout a test run). A run's result is its output, exit code and the files it wrote in
// its working directory, which a later taker gets too. Commands that read the clock or the machine (bench, ui,
// a --minutes budget) are never shared, nor runs outside a page's scratch directory (SCRATCH_PREFIX): in the
// repository, other tests write files at the same time. The store is a directory made for the whole test run
// (cli-host-runs-setup.ts). Entry points: sharedRun, SCRATCH_PREFIX.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, sep } from 'node:path';
import type { CliResult } from './cli.ts';

/** What a shared run brings back: the command's result and the files it wrote (relative paths). */
interface Stored extends CliResult {
  files: string[];
}

/** Where a test host makes its scratch directory, a docs page's (cli-host.ts, scratch): the only runs shared. */
export const SCRATCH_PREFIX = join(tmpdir(), 'grantvm-docs-');

/**
 * Runs whose result depends on their inputs only, where nothing else writes: not the clock's (bench, --minutes)
 * or a server's (ui), and in a page's scratch directory.
 */
function shareable(argv: readonly string[], cwd: string): boolean {
  return (
    cwd.startsWith(SCRATCH_PREFIX) &&
    !['bench', 'ui'].includes(argv[0] ?? '') &&
    !argv.some((a) => a.startsWith('--minutes'))
  );
}

/** The files under `dir` (but the symlinked repository files), with their size and modification time. */
function listing(dir: string, under = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
    const rel = join(under, e.name);
    if (e.isDirectory()) for (const [f, s] of listing(dir, rel)) out.set(f, s);
    else if (e.isFile()) {
      const st = statSync(join(dir, rel));
      out.set(rel, `${String(st.size)}:${String(st.mtimeMs)}`);
    }
  }
  return out;
}

/** The key of a run: its command line and the contents of the files of `cwd` it names; null when not shareable. */
function keyOf(argv: readonly string[], cwd: string): string | null {
  if (!shareable(argv, cwd)) return null;
  const hash = createHash('sha256').update(JSON.stringify(argv));
  for (const word of argv.flatMap((a) => a.split('='))) {
    // A path outside the working directory may be read or written where a later taker would not see it.
    if (isAbsolute(word) || word.split(sep).includes('..')) return null;
    const path = join(cwd, word);
    if (word === '' || !existsSync(path)) continue;
    // A directory may be read in any part: not provably the same run.
    if (!statSync(path).isFile()) return null;
    hash.update(`\0${word}\0`).update(readFileSync(path));
  }
  return hash.digest('hex');
}

/** Copies `files` (paths relative to both) from directory `from` to directory `to`. */
function copyFiles(files: readonly string[], from: string, to: string): void {
  for (const rel of files) {
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(join(from, rel), join(to, rel));
  }
}

/**
 * Runs `argv` in `cwd` with `run`, or takes the result of the same run made earlier in this test run (from the
 * store `dir`), with the files that run wrote.
 */
export async function sharedRun(
  dir: string,
  argv: readonly string[],
  cwd: string,
  run: () => Promise<CliResult>,
): Promise<CliResult> {
  const key = keyOf(argv, cwd);
  if (key === null) return run();
  const entry = join(dir, key);
  if (existsSync(entry)) {
    const { files, ...result } = JSON.parse(readFileSync(join(entry, 'run.json'), 'utf8')) as Stored;
    copyFiles(files, join(entry, 'files'), cwd);
    return result;
  }
  const before = listing(cwd);
  const result = await run();
  const files = [...listing(cwd)].filter(([rel, stamp]) => before.get(rel) !== stamp).map(([rel]) => rel);
  // Whole or not at all: another host may take the entry as soon as it exists.
  const draft = `${entry}.${String(process.pid)}`;
  mkdirSync(draft);
  copyFiles(files, cwd, join(draft, 'files'));
  writeFileSync(join(draft, 'run.json'), JSON.stringify({ ...result, files }));
  try {
    renameSync(draft, entry);
  } catch {
    // Another host made the same run at the same time and stored it first.
    rmSync(draft, { recursive: true, force: true });
  }
  return result;
}
