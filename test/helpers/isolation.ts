// Which test files may share a worker with other files (Vitest's isolate: false) and which need one of their own,
// decided from their source, so that a new test file is placed without a list to keep up (vitest.config.ts reads
// splitByIsolation when it starts; isolation.test.ts checks the rule). A file that shares a worker shares with the
// files before it the modules of src/ it imports, and the process: a file needs isolation when it, or a test
// helper it imports, changes something of either that outlives the file. Entry points: needsIsolation,
// splitByIsolation, STATE_SETTERS, testFiles.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The exported functions of src/ that change module state for the rest of the process (a flag or a choice that
 * later calls read). A function of src/ that does so must be named here, or the files that call it would share it.
 */
export const STATE_SETTERS: readonly string[] = ['keepScenarioWorkers', 'keepJobWorkers', 'useClock'];

/** What in a test's source changes state that outlives the file, and so calls for a worker of its own. */
const OUTLIVES_THE_FILE: readonly RegExp[] = [
  // Vitest's mocks, stubs and fake timers reach beyond the file that sets them (a module mock, a spied global).
  /\bvi\.(?:spyOn|mock|doMock|unmock|stubGlobal|stubEnv|useFakeTimers|resetModules|setSystemTime)\b/,
  // A field of the process assigned (exitCode, stdout.write, env.X) or its working directory changed.
  /\bprocess(?:\.\w+)+\s*=(?!=)|\bprocess\.chdir\(/,
  // The CLI's main() run in this process: it reads and sets process.exitCode.
  /src\/cli\/main\.ts['"]/,
  new RegExp(`\\b(?:${STATE_SETTERS.join('|')})\\b`),
];

/** Whether a test file's source (with its helpers') changes state that outlives it. */
export function needsIsolation(source: string): boolean {
  return OUTLIVES_THE_FILE.some((re) => re.test(source));
}

/** Every test file that `vitest run` runs under `root` (test/**\/*.test.ts but the browser's), relative, sorted. */
export function testFiles(root: string): string[] {
  return readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .map((f) => join('test', f).split('\\').join('/'))
    .filter((f) => f.endsWith('.test.ts') && !f.startsWith('test/e2e/'))
    .sort();
}

/** The test-side modules (outside src/ and node_modules) that `file` imports, itself included, transitively. */
function ownModules(root: string, file: string, seen = new Set<string>()): Set<string> {
  // An import named inside a string (a test's sample code) may name no file.
  if (seen.has(file) || !existsSync(join(root, file))) return seen;
  seen.add(file);
  const text = readFileSync(join(root, file), 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const dep = relative(root, resolve(root, dirname(file), m[1] ?? ''))
      .split('\\')
      .join('/');
    if (!dep.startsWith('src/') && /\.m?[jt]s$/.test(dep)) ownModules(root, dep, seen);
  }
  return seen;
}

/** The test files under `root` that may share a worker, and those that need one of their own. */
export function splitByIsolation(root: string): { shared: string[]; isolated: string[] } {
  const shared: string[] = [];
  const isolated: string[] = [];
  for (const f of testFiles(root)) {
    const source = [...ownModules(root, f)].map((m) => readFileSync(join(root, m), 'utf8')).join('\n');
    (needsIsolation(source) ? isolated : shared).push(f);
  }
  return { shared, isolated };
}
