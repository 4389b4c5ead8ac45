// `grantvm exercise`: the command function in process (list, sheets, JSON without and with answers, --check right
// and wrong) and its usage errors; one run of the real command for the exit code of a usage error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exerciseCommand } from '../../../src/cli/commands/exercise.ts';
import type { ExerciseOptions } from '../../../src/cli/commands/exercise.ts';
import { UsageError } from '../../../src/cli/options.ts';
import { allocExercise } from '../../../src/sim/exercise/alloc.ts';
import { grantvm } from '../../helpers/cli.ts';

async function run(topic: string | undefined, o: ExerciseOptions): Promise<string> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out.push(a.map(String).join(' '));
  });
  await exerciseCommand(topic, o);
  return out.join('\n');
}

describe('exerciseCommand', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function answerFile(content: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'grantvm-exercise-'));
    dirs.push(dir);
    const file = join(dir, 'a.json');
    writeFileSync(file, content);
    return file;
  }

  it('--list names every topic with its levels', async () => {
    const text = await run(undefined, { list: true });
    for (const t of ['pagewalk', 'grants', 'cowfork', 'safemap', 'alloc', 'ds', 'cost'])
      expect(text).toMatch(new RegExp(`^${t}\\s+2\\s`, 'm'));
    expect(text).toMatch(/^cowsafecopy\s+3\s/m);
  });

  it('a Markdown problem sheet has no answers; the answer sheet has them for the same problems', async () => {
    const sheet = await run('alloc', { seed: 5, count: 3, format: 'md' });
    expect(sheet.match(/^## Problem \d/gm)).toHaveLength(3);
    expect(sheet).toContain('(alloc, seed 7, level 1)');
    expect(sheet).not.toContain('—');
    const key = await run('alloc', { seed: 5, count: 3, format: 'md', answers: true });
    expect(key.match(/^## Answers to problem \d/gm)).toHaveLength(3);
    expect(key).toContain(`\`${allocExercise(5, 1).answers[0]?.value ?? '?'}\``);
  });

  it('--format json is the plain data, answers only with --answers', async () => {
    const plain = JSON.parse(await run('alloc', { format: 'json' })) as {
      answers: unknown[];
      givens: unknown;
    }[];
    expect(plain[0]?.answers).toEqual([]);
    expect(plain[0]?.givens).toEqual(allocExercise(1, 1).givens);
    const full = JSON.parse(await run('alloc', { format: 'json', answers: true })) as {
      answers: unknown[];
    }[];
    expect(full[0]?.answers).toEqual(allocExercise(1, 1).answers);
  });

  it('--check marks each answer, loosely compared, and sets exit code 1 unless all are right', async () => {
    const e = allocExercise(1, 1);
    const right = Object.fromEntries(
      e.answers.map((a) => [
        a.id,
        a.value.toUpperCase().replace(/0X([0-9A-F]+)/g, (_, h: string) => String(parseInt(h, 16))),
      ]),
    );
    const ok = await run('alloc', { check: answerFile(JSON.stringify(right)) });
    expect(ok).toContain(`${e.answers.length} of ${e.answers.length} right`);
    expect(process.exitCode).toBeUndefined();
    const wrong = await run('alloc', { check: answerFile(JSON.stringify({ ...right, 1: 'NO_MEM' })) });
    expect(wrong).toMatch(/^1\s+wrong$/m);
    expect(wrong).toContain(`${e.answers.length - 1} of ${e.answers.length} right`);
    expect(process.exitCode).toBe(1);
  });

  it('usage errors are UsageErrors, raised before any work', async () => {
    const bad: [string | undefined, ExerciseOptions, RegExp][] = [
      [undefined, {}, /name a topic/],
      ['nope', {}, /unknown topic 'nope'/],
      ['alloc', { level: 3 }, /--level must be in \[1, 2\]/],
      ['alloc', { count: 0 }, /--count must be in/],
      ['alloc', { count: 2, check: 'x.json' }, /leave out --count/],
      ['alloc', { check: join(tmpdir(), 'grantvm-no-such-file.json') }, /cannot read/],
      ['alloc', { check: answerFile('[1, 2]') }, /JSON object/],
      ['alloc', { check: answerFile('{') }, /is not JSON/],
    ];
    for (const [topic, o, message] of bad) await expect(run(topic, o)).rejects.toThrow(message);
    await expect(run('nope', {})).rejects.toBeInstanceOf(UsageError);
  });

  it('the real command: a usage error is one line on stderr and exit code 2', () => {
    const r = grantvm(['exercise', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
