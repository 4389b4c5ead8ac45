// The README is run, so it cannot rot: its TypeScript example prints what it says, and every `npx grantvm` command
// of its sh blocks succeeds, in order, in one scratch directory (its other sh lines — npm ci, npm start, npm test,
// npm run bench — are what CI itself runs). The grantvm commands run in one host process (helpers/cli-host.ts),
// through the CLI's main, as they would in a process of their own but without a Node start each. The pages of
// docs/ are run by docs.test.ts and docs_cli.test.ts.
import { describe, expect, it } from 'vitest';
import { cliHost } from '../../helpers/cli-host.ts';
import { blocks, commands, readme, runAll, runExample } from '../../helpers/docs.ts';

const host = cliHost(true);

describe('README', () => {
  it('the "From code" example runs and prints what it says', () => {
    const [code] = blocks(readme, 'ts');
    expect(code).toBeDefined();
    const r = runExample(code ?? '', 'readme-example');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('{ code: 0, signal: 0 }');
    expect(r.stdout).toContain('init');
  });

  it('every npx grantvm command shown succeeds', { timeout: 600_000 }, async () => {
    const lines = commands(readme).filter((l) => l.startsWith('npx grantvm'));
    expect(lines.length).toBeGreaterThan(3);
    await runAll(host, lines);
  });

  it('links the tutorial and the command pages', () => {
    for (const page of ['docs/tutorial.md', 'docs/cli/README.md']) expect(readme).toContain(`(${page})`);
  });
});
