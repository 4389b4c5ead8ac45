// The documentation is run, so it cannot rot: the README's TypeScript example; every `npx grantvm` command in
// the sh blocks of README.md; every command in the sh blocks of docs/**/*.md (grantvm, grep, ...), one scratch
// directory per page so a page's later commands see the files its earlier ones wrote; and a page in docs/cli
// for every command `grantvm --help` lists, naming each of its options. (The README's other sh lines —
// npm ci, npm start, npm test, npm run bench — are what CI itself runs.) A docs line that must not run ends
// with the marker `# not run by the docs test`, with a reason next to it (docs/cli/ui.md: the bundle build and the
// server, which the end-to-end tests run). The grantvm commands run in one host process (helpers/cli-host.ts),
// through the CLI's main, as they would in a process of their own but without a Node start each.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { plainEnv, root } from '../../helpers/cli.ts';
import { cliHost } from '../../helpers/cli-host.ts';

const SKIP = '# not run by the docs test';

function blocks(text: string, lang: string): string[] {
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  return [...text.matchAll(re)].map((m) => m[1] ?? '');
}

/** The command lines of a page's sh blocks (comments and blank lines dropped). */
function commands(text: string): string[] {
  return blocks(text, 'sh')
    .flatMap((b) => b.split('\n'))
    .filter((l) => !l.includes(SKIP))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'api' ? [] : markdownFiles(join(dir, e.name))) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

const host = cliHost();

/** Runs `lines` in order with sh in a scratch directory that sees the repository's examples; `npx grantvm` is this checkout's. */
function runAll(lines: readonly string[]): void {
  const cwd = mkdtempSync(join(tmpdir(), 'grantvm-docs-'));
  symlinkSync(join(root, 'examples'), join(cwd, 'examples'));
  try {
    for (const line of lines) {
      const r = host.sh(line, cwd);
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stderr, line).not.toMatch(/\n\s+at /);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pages = markdownFiles(join(root, 'docs')).map((f) => ({ name: relative(root, f), text: readFileSync(f, 'utf8') }));

describe('README', () => {
  it('the "From code" example runs and prints what it says', () => {
    const [code] = blocks(readme, 'ts');
    expect(code).toBeDefined();
    const file = `${root}.readme-example.tmp.ts`;
    writeFileSync(file, code ?? '');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', env: plainEnv(), timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('{ code: 0, signal: 0 }');
      expect(r.stdout).toContain('init');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('every npx grantvm command shown succeeds', { timeout: 600_000 }, () => {
    const lines = commands(readme).filter((l) => l.startsWith('npx grantvm'));
    expect(lines.length).toBeGreaterThan(3);
    runAll(lines);
  });

  it('links the tutorial and the command pages', () => {
    for (const page of ['docs/tutorial.md', 'docs/cli/README.md']) expect(readme).toContain(`(${page})`);
  });
});

describe('docs/', () => {
  it('has the tutorial and a page per command', () => {
    expect(pages.map((p) => p.name)).toEqual(expect.arrayContaining(['docs/tutorial.md', 'docs/cli/README.md']));
  });

  for (const page of pages.filter((p) => commands(p.text).length > 0)) {
    it(`every command of ${page.name} succeeds`, { timeout: 600_000 }, () => {
      runAll(commands(page.text));
    });
  }

  it('the tutorial runs its own example file, whose checks all pass', () => {
    const tutorial = pages.find((p) => p.name === 'docs/tutorial.md')?.text ?? '';
    expect(commands(tutorial)).toContain('npx grantvm run examples/tutorial/grant-pair.ts -v');
    const r = host.sh('npx grantvm run examples/tutorial/grant-pair.ts');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\b8 passed, 0 failed/);
  });

  it('docs/cli has a page for every command, naming every option, listed in its index', { timeout: 180_000 }, () => {
    const help = (...args: string[]): string => host.sh(['npx grantvm', ...args, '--help'].join(' ')).stdout;
    const names = [...(help().split('Commands:')[1] ?? '').matchAll(/^ {2}(\w+)/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'help');
    expect(names).toEqual(expect.arrayContaining(['run', 'test', 'bench', 'trace', 'inspect']));
    const index = pages.find((p) => p.name === 'docs/cli/README.md')?.text ?? '';
    for (const name of names) {
      const page = pages.find((p) => p.name === `docs/cli/${name}.md`);
      expect(page, `docs/cli/${name}.md`).toBeDefined();
      expect(index, `docs/cli/README.md lists ${name}`).toContain(`(${name}.md)`);
      const own = [...help(name).matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] ?? '');
      const shared = ['--seed', '--memory', '--sanity', '--no-cow', '--grant-ids', '--schedule', '--help'];
      for (const option of own.filter((o) => !shared.includes(o))) expect(page?.text, `docs/cli/${name}.md names ${option}`).toContain(option);
    }
  });
});
