// The README is run, so it cannot rot: its TypeScript example prints what it says, and every `npx grantvm` command
// of its sh blocks succeeds, in order, in one scratch directory (its other sh lines — npm ci, npm start, npm test,
// npm run bench — are what CI itself runs). The grantvm commands run in one host process (helpers/cli-host.ts),
// through the CLI's main, as they would in a process of their own but without a Node start each. The pages of
// docs/ are run by docs.test.ts and docs_cli.test.ts.
import { describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { plainEnv, root } from '../../helpers/cli.ts';
import { cliHost } from '../../helpers/cli-host.ts';
import { blocks, commands, readme, runAll } from '../../helpers/docs.ts';

const host = cliHost();

describe('README', () => {
  it('the "From code" example runs and prints what it says', () => {
    const [code] = blocks(readme, 'ts');
    expect(code).toBeDefined();
    const file = `${root}.readme-example.tmp.ts`;
    writeFileSync(file, code ?? '');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        encoding: 'utf8',
        env: plainEnv(),
        timeout: 120_000,
      });
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
    runAll(host, lines);
  });

  it('links the tutorial and the command pages', () => {
    for (const page of ['docs/tutorial.md', 'docs/cli/README.md']) expect(readme).toContain(`(${page})`);
  });
});
