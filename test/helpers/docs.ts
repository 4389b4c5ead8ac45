// The documentation as the docs tests run it (test/unit/docs/docs*.test.ts, readme.test.ts): the fenced blocks of
// a page, the command lines of its sh blocks, the pages of docs/, and runAll, which runs a page's lines in order
// in one scratch directory through a CLI host, and runExample, which runs a page's TypeScript example. Entry
// points: blocks, commands, readme, pages, plainGrantvm, runAll, runExample, SKIP, SLOW_PAGES.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { plainEnv, root } from './cli.ts';
import type { CliResult } from './cli.ts';
import type { CliHost } from './cli-host.ts';

/** The marker of a docs line that must not run (with a reason next to it). */
export const SKIP = '# not run by the docs test';

/** The bodies of the fenced blocks of `text` in language `lang`. */
export function blocks(text: string, lang: string): string[] {
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  return [...text.matchAll(re)].map((m) => m[1] ?? '');
}

/** The command lines of a page's sh blocks (comments and blank lines dropped). */
export function commands(text: string): string[] {
  return blocks(text, 'sh')
    .flatMap((b) => b.split('\n'))
    .filter((l) => !l.includes(SKIP))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'api'
        ? []
        : markdownFiles(join(dir, e.name))
      : e.name.endsWith('.md')
        ? [join(dir, e.name)]
        : [],
  );
}

/** README.md. */
export const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Every page of docs/ (but the generated API reference), by its path from the repository root. */
export const pages = markdownFiles(join(root, 'docs')).map((f) => ({
  name: relative(root, f),
  text: readFileSync(f, 'utf8'),
}));

/**
 * The arguments of a line that is `npx grantvm` and plain words (no quote, variable, glob, redirection or other
 * word sh would change), which sh would pass on as they are; null for any other line.
 */
export function plainGrantvm(line: string): string[] | null {
  const m = /^npx grantvm((?: +[\w./=,:+@%-]+)*) *$/.exec(line);
  return m === null ? null : (m[1] ?? '').split(' ').filter((w) => w !== '');
}

/**
 * Runs `lines` in order in the host's scratch directory, emptied, where the repository's examples are seen: with
 * sh, where `npx grantvm` is this checkout's, or, for a plain `npx grantvm` line (plainGrantvm), straight through
 * the host with the words sh would have passed it (the same command line in the same directory, without a shell and
 * a client process of its own: about 0.15 s of CPU a line).
 */
export async function runAll(host: CliHost, lines: readonly string[]): Promise<void> {
  const cwd = host.scratch();
  for (const line of lines) {
    const args = plainGrantvm(line);
    const r = args === null ? host.sh(line, cwd) : await host.grantvm(args, cwd);
    expect(r.status, `${line}\n${r.stderr}`).toBe(0);
    expect(r.stderr, line).not.toMatch(/\n\s+at /);
  }
}

/** Runs TypeScript `code` through tsx as a file `name` at the repository root (where './src/...' resolves). */
export function runExample(code: string, name: string): CliResult {
  const file = `${root}.${name}.tmp.ts`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      env: plainEnv(),
      timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The pages whose commands take longest (fault campaigns, the conformance suites, fuzz campaigns): docs_cli.test.ts
 * runs them and docs.test.ts the others, so that the docs run on both cores. In this order, the lines they share
 * with the README (test, fuzz) come after readme.test.ts ran them, when it starts first, and are not run again.
 */
export const SLOW_PAGES: readonly string[] = ['docs/cli/faults.md', 'docs/cli/test.md', 'docs/cli/fuzz.md'];
