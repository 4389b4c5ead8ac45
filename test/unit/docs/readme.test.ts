// The README's examples are run, so the docs cannot rot: the TypeScript example and every `npx grantvm`
// command of the CLI section.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');

function blocks(lang: string): string[] {
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  return [...readme.matchAll(re)].map((m) => m[1] ?? '');
}

describe('README', () => {
  it('the "From code" example runs and prints what it says', () => {
    const [code] = blocks('ts');
    expect(code).toBeDefined();
    const file = `${root}.readme-example.tmp.ts`;
    writeFileSync(file, code ?? '');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('{ code: 0, signal: 0 }');
      expect(r.stdout).toContain('init');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('every npx grantvm command shown succeeds', { timeout: 600_000 }, () => {
    const commands = blocks('sh')
      .flatMap((b) => b.split('\n'))
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter((l) => l.startsWith('npx grantvm'));
    expect(commands.length).toBeGreaterThan(3);
    // A scratch directory that sees the repository's examples, so written files land outside the tree.
    const cwd = mkdtempSync(join(tmpdir(), 'grantvm-readme-'));
    symlinkSync(`${root}examples`, join(cwd, 'examples'));
    try {
      for (const c of commands) {
        const args = c.split(/\s+/).slice(2);
        const r = spawnSync(process.execPath, [`${root}bin/grantvm.js`, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
        expect(r.status, `${c}\n${r.stderr}`).toBe(0);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
