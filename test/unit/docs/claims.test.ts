// What the docs claim, checked against the tool (docs.test.ts checks that their commands run): the tutorial's
// "break it" step applied to a copy of its example, the trace events and inspect lines the tutorial quotes (the
// quoted fields, so added fields do not matter), the COW figures of examples/browser-scenario.mjs, and in
// docs/api-guide.md the first example's printed line, the step-by-step example's report, and the tsconfig of
// "Type-checking a scenario file" (it accepts an example and rejects a misspelt field, with the stated status).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createSystem, ScenarioOutput } from '../../../src/index.ts';
import type { Scenario } from '../../../src/index.ts';
import { plainEnv, root } from '../../helpers/cli.ts';
import { cliHost } from '../../helpers/cli-host.ts';
import { blocks, runExample } from '../../helpers/docs.ts';

const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const tutorial = read('docs/tutorial.md');
const guide = read('docs/api-guide.md');
// The grantvm command lines run in one host process, as in a process of their own but without a Node start each.
const host = cliHost();
const grantvm = (args: string[]) => host.grantvm(args);

/** The text after `prefix` up to the next backquote (a quoted line of a doc). */
function quoted(text: string, prefix: string): string {
  const m = new RegExp(`${prefix}\`([^\`]+)\``).exec(text.replace(/\s*\n\s*/g, ' '));
  expect(m, prefix).not.toBeNull();
  return m?.[1] ?? '';
}

describe('docs/tutorial.md', () => {
  it('"replace CPF_READ with CPF_WRITE": the copy fails with the quoted line, status 1 and a replay command', async () => {
    const copy = join(root, 'examples/tutorial/.grant-pair-write.tmp.ts');
    writeFileSync(copy, read('examples/tutorial/grant-pair.ts').replaceAll('CPF_READ', 'CPF_WRITE'));
    try {
      const r = await grantvm(['run', copy]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(quoted(tutorial, 'the line reads '));
      expect(r.stdout).toMatch(/seed 1 — replay it with: grantvm run \S+ --seed 1/);
    } finally {
      rmSync(copy, { force: true });
    }
  });
});

/** The lines of the first text block of `doc` that contains `marker`, without '...' lines. */
function shownLines(doc: string, marker: string): string[] {
  const block = blocks(doc, 'text').find((b) => b.includes(marker)) ?? '';
  return block.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '...');
}

describe('docs/tutorial.md, the trace and the dump it shows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grantvm-claims-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the grant events it quotes are in the trace, in order, and VM answers a CHECK at the steps it names', async () => {
    const file = join(dir, 'grant-pair.jsonl');
    expect((await grantvm(['trace', 'examples/tutorial/grant-pair.ts', '-o', file])).status).toBe(0);
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const quotedEvents = shownLines(tutorial, '"kind":"grant"').map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    expect(quotedEvents.length).toBeGreaterThan(2);
    let from = 0;
    for (const q of quotedEvents) {
      const at = events.findIndex((e, i) => i >= from && Object.entries(q).every(([k, v]) => e[k] === v));
      expect(at, JSON.stringify(q)).toBeGreaterThanOrEqual(from);
      from = at + 1;
    }
    const [, lo, hi] =
      /at steps (\d+)–(\d+): a `vmreq` `post` and `reply` around a `vm` `alloc`/.exec(
        tutorial.replace(/\s*\n\s*/g, ' '),
      ) ?? [];
    const window = events
      .filter((e) => Number(e.step) >= Number(lo) && Number(e.step) <= Number(hi))
      .map((e) => `${String(e.kind)} ${String(e.op)}`);
    expect(window).toEqual(expect.arrayContaining(['vmreq post', 'vm alloc', 'vmreq reply']));
    expect(window.indexOf('vmreq post')).toBeLessThan(window.indexOf('vmreq reply'));
  });

  it('the inspect dump at the step it names shows the lines it quotes', async () => {
    const [, step] = /npx grantvm inspect examples\/tutorial\/grant-pair.ts --at (\d+)/.exec(tutorial) ?? [];
    const r = await grantvm(['inspect', 'examples/tutorial/grant-pair.ts', '--at', step ?? 'missing']);
    expect(r.status, r.stderr).toBe(0);
    const squeeze = (l: string): string => l.trim().replace(/\s+/g, ' ');
    const got = r.stdout.split('\n').map(squeeze);
    const lines = shownLines(tutorial, 'Grant tables');
    expect(lines.length).toBeGreaterThan(6);
    for (const line of lines) expect(got, line).toContain(squeeze(line));
  });
});

describe('examples/browser-scenario.mjs', () => {
  it('the COW break it describes copies all 4 pages (1 break, 4 pages copied) and its check passes', async () => {
    expect(read('examples/browser-scenario.mjs')).toContain('1 COW break, 4 pages copied');
    const file = new URL('../../../examples/browser-scenario.mjs', import.meta.url).href;
    const { scenario } = (await import(file)) as { scenario: Scenario };
    const sys = await createSystem({ sanity: 'top' });
    const before = sys.inspect().stats;
    const out = new ScenarioOutput();
    await scenario.run(sys, out, {});
    const after = sys.inspect().stats;
    expect(out.checks.map((c) => c.ok)).toEqual([true]);
    expect([after.cowBreaks - before.cowBreaks, after.cowPagesCopied - before.cowPagesCopied]).toEqual([
      1, 4,
    ]);
  });
});

describe('docs/api-guide.md', () => {
  it('the first example prints what its comment says', () => {
    const [code] = blocks(guide, 'ts');
    const said = /console\.log\([^)]*\);\s*\/\/ (.+)$/m.exec(code ?? '')?.[1] ?? 'missing';
    const r = runExample(
      (code ?? '').replace(`from 'grantvm'`, `from './src/index.ts'`),
      'api-guide-example',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(said);
  });

  it('examples/step-by-step.ts reports what the guide shows', async () => {
    const shown = blocks(guide, 'text').find((b) => b.includes('step-by-step')) ?? '';
    const r = await grantvm(['run', 'examples/step-by-step.ts', '-v']);
    expect(r.status, r.stdout).toBe(0);
    const lines = shown.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '...');
    expect(lines.length).toBeGreaterThan(8);
    for (const line of lines) expect(r.stdout).toContain(line);
  });

  it(
    'the minimal tsconfig accepts a scenario file and rejects a misspelt field with status 2',
    { timeout: 240_000 },
    () => {
      const [tsconfig] = blocks(guide, 'json');
      expect(guide).toContain('the exit status is 2');
      const dir = mkdtempSync(join(root, '.typecheck-'));
      try {
        writeFileSync(join(dir, 'tsconfig.json'), tsconfig ?? '');
        // One level below the root, as examples/ is: the same '../src/index.ts' imports resolve.
        writeFileSync(join(dir, 'good.ts'), read('examples/step-by-step.ts'));
        writeFileSync(
          join(dir, 'bad.ts'),
          read('examples/tutorial/grant-pair.ts')
            .replaceAll('../../src/', '../src/')
            .replace('title:', 'titel:'),
        );
        const tsc = join(root, 'node_modules/typescript/bin/tsc');
        const r = spawnSync(process.execPath, [tsc, '-p', dir], {
          cwd: dir,
          encoding: 'utf8',
          env: plainEnv(),
          timeout: 220_000,
        });
        expect(r.status, r.stdout).toBe(2);
        const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
        expect(errors.length).toBe(1);
        expect(errors[0]).toMatch(/^bad\.ts\(\d+,\d+\): error TS\d+: .*'titel'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
