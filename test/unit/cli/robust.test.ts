// Issue 13, the CLI half: user errors are one line and exit 2 before any work; limits say where and how to
// replay; scenario files load wherever they lie and a syntax error says where; a scenario that checks nothing
// fails; a trace of several scenarios marks where each begins; the --seed help says when it matters.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { checkWritable, parseMemory, parseSeed, UsageError } from '../../../src/cli/options.ts';
import { loadProblem } from '../../../src/cli/scenariofile.ts';
import { sourceOf } from '../../../src/cli/diagnosis.ts';
import { grantvm as cli, scratchDir } from '../../helpers/cli.ts';
import { cliHost } from '../../helpers/cli-host.ts';

// The command lines run in one host process (as in a process of their own, without a Node start each); `ui`
// serves until it is stopped, so it runs in a process of its own.
const host = cliHost();
const grantvm = (...args: string[]) => host.grantvm(args);
const { file, path } = scratchDir('grantvm-robust-');

describe('option values', () => {
  it('seeds are 0…2^32−1: a larger one is rejected, not wrapped', () => {
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed('4294967295')).toBe(4294967295);
    for (const bad of ['4294967296', '4294967297', '-1', '1.5', 'x'])
      expect(() => parseSeed(bad)).toThrow(InvalidArgumentError);
  });

  it('--memory is 4M–4G in whole pages, said in those words', () => {
    expect(parseMemory('4M')).toBe(4 << 20);
    expect(parseMemory('4G')).toBe(4 * 1024 ** 3);
    for (const bad of ['3M', '5G', '4098K', 'lots'])
      expect(() => parseMemory(bad)).toThrow(/^--memory must be 4M–4G in whole pages/);
  });

  it('an output file must be writable: missing directory, a directory, a read-only file', () => {
    expect(() => {
      checkWritable(path('new.jsonl'), '--trace');
    }).not.toThrow();
    expect(() => {
      checkWritable(path('no/such/x.jsonl'), '--trace');
    }).toThrow(/^--trace .*: no such directory/);
    mkdirSync(path('sub'));
    expect(() => {
      checkWritable(path('sub'), '-o');
    }).toThrow(/is a directory/);
    expect(() => {
      checkWritable(path('x.json/y'), '--json');
    }).toThrow(UsageError);
  });

  it('a load problem is one line with file:line:column', () => {
    const esbuild = new Error('Transform failed with 1 error:\n/a/b.ts:3:49: ERROR: Unexpected "*"');
    expect(loadProblem(esbuild)).toBe('/a/b.ts:3:49: Unexpected "*"');
    const node = new SyntaxError("Unexpected token '*'");
    expect(
      loadProblem(
        node,
        "/a/c.mjs:2\nconst x = 1 +* 2;\n              ^\n\nSyntaxError: Unexpected token '*'",
      ),
    ).toBe("/a/c.mjs:2:15: Unexpected token '*'");
    expect(loadProblem(new Error('first\nsecond'))).toBe('first');
  });

  it("a crash is placed at the first frame of the user's own source", () => {
    const stack =
      'Error: boom\n    at f (/pkg/src/kernel/kernel.ts:1:2)\n    at g (node:internal/x:3:4)\n    at h (file:///home/u/s.ts:7:9)\n    at i (/home/u/s.ts:8:1)';
    expect(sourceOf(stack, '/pkg/src/')).toBe('/home/u/s.ts:7:9');
    expect(sourceOf('Error: x\n    at node:internal/y:1:1', '/pkg/src/')).toBeNull();
  });
});

describe('grantvm user errors', () => {
  it('are one line on stderr, exit 2, before any work (nothing on stdout)', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'boot', '--seed', '4294967297'], /not a seed/],
      [['run', 'boot', '--memory', '3M'], /^grantvm: --memory must be 4M–4G in whole pages/],
      [['fuzz', '--runs', '0'], /not a positive integer/],
      [['run', 'boot', '--trace', path('none/x.jsonl')], /^grantvm: --trace .*no such directory/],
      [['fuzz', '--runs', '1', '--json', path('none/x.json')], /^grantvm: --json .*no such directory/],
      [['fuzz', 'merge', file('a.json', '{}'), '--json', path('none/x.json')], /^grantvm: --json .*no such directory/],
      [['trace', 'boot', '-o', path('.')], /^grantvm: --output .* is a directory/],
      [['run', 'boot', '--max-steps', '0'], /not a positive integer/],
      [['run', 'boot', '--timeout', 'soon'], /not a positive number of seconds/],
    ];
    for (const [args, message] of cases) {
      const r = await grantvm(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it("a subcommand's options follow it: fuzz merge … --json writes the merged report", async () => {
    expect((await grantvm('fuzz', '--runs', '1', '--commands', '3', '--json', path('one.json'))).status).toBe(0);
    const r = await grantvm('fuzz', 'merge', path('one.json'), '--json', path('merged.json'));
    expect(r.status, r.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(path('merged.json'), 'utf8')) as { runs: number; commands: number };
    expect([merged.runs, merged.commands]).toEqual([1, 3]);
  });

  it('a scenario file with a syntax error names file, line and column', async () => {
    const f = file(
      'broken.ts',
      "export const scenario = {\n  name: 'b', title: 'b',\n  run() { return 1 +* 2; },\n};\n",
    );
    const r = await grantvm('run', f);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${f}:3:`);
  });

  it('ui: a port in use is one line and exit 2', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const web = path('web');
    mkdirSync(web);
    writeFileSync(path('web/index.html'), '<p>x</p>');
    const r = cli(['ui', '--dir', web, '--port', String(port)]);
    server.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^grantvm: --port ${port}: the port is in use`));
  });
});

describe('grantvm run verdicts and traces', () => {
  it('a .mts file outside any project runs; a scenario that checks nothing fails; --trace marks each scenario', async () => {
    const ok = file(
      'ok.mts',
      "export const scenario = { name: 'ok', title: 'ok', async run(sys: unknown, out: { check(n: string, ok: boolean): void }) { out.check('fine', true); } };\n",
    );
    const none = file(
      'none.mjs',
      "export const scenario = { name: 'none', title: 'checks nothing', async run(sys, out) { out.line('hello'); } };\n",
    );
    const trace = path('two.jsonl');
    const r = await grantvm('run', ok, none, '--trace', trace);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✓ ok — ok/);
    expect(r.stdout).toMatch(/✗ none — checks nothing/);
    expect(r.stdout).toMatch(/no checks: a scenario must make at least one/);
    expect(r.stdout).toMatch(/^1 passed, 1 failed$/m);
    const markers = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"scenario"'))
      .map((l) => JSON.parse(l) as { name: string; step: number });
    expect(markers.map((m) => [m.name, m.step])).toEqual([
      ['ok', 0],
      ['none', 0],
    ]);
  });

  it('--seed says it matters only under --schedule random', async () => {
    const help = (await grantvm('run', '--help')).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--seed <n> .*?default priority schedule makes none: use it with --schedule random/);
    expect(help).toMatch(/--max-steps <n> .*?\(default 2000000\)/);
    expect(help).toMatch(/--timeout <seconds> .*?\(default 300\)/);
  });
});
