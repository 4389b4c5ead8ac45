// The documentation is run, so it cannot rot: every command in the sh blocks of docs/**/*.md (grantvm, grep, ...),
// one scratch directory per page so a page's later commands see the files its earlier ones wrote, and a page in
// docs/cli for every command `grantvm --help` lists, naming each of its options. A docs line that must not run
// ends with the marker `# not run by the docs test`, with a reason next to it (docs/cli/ui.md: the bundle build
// and the server, which the end-to-end tests run). The grantvm commands run in one host process
// (helpers/cli-host.ts), through the CLI's main, as they would in a process of their own but without a Node start
// each. The README is run by readme.test.ts, and the slowest pages (SLOW_PAGES) by docs_cli.test.ts, so that the
// docs run on both cores.
import { describe, expect, it } from 'vitest';
import { cliHost } from '../../helpers/cli-host.ts';
import { commands, pages, plainGrantvm, runAll, SLOW_PAGES } from '../../helpers/docs.ts';

const host = cliHost(true);

describe('docs/', () => {
  it('has the tutorial and a page per command', () => {
    expect(pages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['docs/tutorial.md', 'docs/cli/README.md']),
    );
  });

  for (const page of pages.filter((p) => !SLOW_PAGES.includes(p.name) && commands(p.text).length > 0)) {
    it(`every command of ${page.name} succeeds`, { timeout: 600_000 }, async () => {
      await runAll(host, commands(page.text));
    });
  }

  it('the tutorial runs its own example file, whose checks all pass', async () => {
    const tutorial = pages.find((p) => p.name === 'docs/tutorial.md')?.text ?? '';
    expect(commands(tutorial)).toContain('npx grantvm run examples/tutorial/grant-pair.ts -v');
    // In the directory of the pages' commands, whose scenario worker the host keeps (cli-host.ts, scratch).
    const r = await host.grantvm(['run', 'examples/tutorial/grant-pair.ts'], host.scratch());
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\b8 passed, 0 failed/);
  });

  it(
    'docs/cli has a page for every command, naming every option, listed in its index',
    { timeout: 180_000 },
    async () => {
      const help = async (...args: string[]): Promise<string> =>
        (await host.grantvm([...args, '--help'])).stdout;
      const names = [...((await help()).split('Commands:')[1] ?? '').matchAll(/^ {2}(\w+)/gm)]
        .map((m) => m[1] ?? '')
        .filter((n) => n !== 'help');
      expect(names).toEqual(expect.arrayContaining(['run', 'test', 'bench', 'trace', 'inspect']));
      const index = pages.find((p) => p.name === 'docs/cli/README.md')?.text ?? '';
      for (const name of names) {
        const page = pages.find((p) => p.name === `docs/cli/${name}.md`);
        expect(page, `docs/cli/${name}.md`).toBeDefined();
        expect(index, `docs/cli/README.md lists ${name}`).toContain(`(${name}.md)`);
        const own = [...(await help(name)).matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] ?? '');
        const shared = ['--seed', '--memory', '--sanity', '--no-cow', '--grant-ids', '--schedule', '--help'];
        for (const option of own.filter((o) => !shared.includes(o)))
          expect(page?.text, `docs/cli/${name}.md names ${option}`).toContain(option);
      }
    },
  );
});

describe('the lines run without sh', () => {
  it('are npx grantvm with words sh passes on as they are; any other line goes to sh', () => {
    expect(plainGrantvm('npx grantvm run --seed 7 --memory 128M --trace out.jsonl')).toEqual([
      'run',
      '--seed',
      '7',
      '--memory',
      '128M',
      '--trace',
      'out.jsonl',
    ]);
    expect(plainGrantvm('npx grantvm faults --targets kv,ds --shard 0/2 --a profile=i386-2010')).toEqual([
      'faults',
      '--targets',
      'kv,ds',
      '--shard',
      '0/2',
      '--a',
      'profile=i386-2010',
    ]);
    expect(plainGrantvm('npx grantvm')).toEqual([]);
    for (const line of [
      'npx grantvm exercise grants --count 3 > sheet.md',
      "npx grantvm run 'my file.ts'",
      'npx grantvm run "a"',
      'npx grantvm run $HOME/x.ts',
      'npx grantvm run ~/x.ts',
      'npx grantvm run examples/*.ts',
      'npx grantvm run x?.ts',
      'npx grantvm run [ab].ts',
      'npx grantvm inspect | head',
      'npx grantvm run boot; echo done',
      'npx grantvm run boot && echo done',
      'npx grantvm run a\\ b.ts',
      'npx grantvm run {a,b}.ts',
      'npx grantvmx run',
      'grep -c x y',
      'X=1 npx grantvm run',
    ])
      expect(plainGrantvm(line), line).toBeNull();
  });
});
