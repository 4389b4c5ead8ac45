// The view's exercise mode end to end, in chromium: generate a problem, its answers hidden; a wrong answer
// marked wrong, the answer shown when asked equal to generateExercise's for that topic, seed and level (run in
// Node here), the right answer marked right; "new problem" takes the next seed; back to the simulator.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { findTopic, generateExercise } from '../../src/sim/exercise/registry.ts';
import { blockText } from '../../src/sim/exercise/render.ts';
import type { Exercise } from '../../src/sim/exercise/types.ts';
import { View, uiAndBrowser } from './browser.ts';

const env = uiAndBrowser();

async function expected(topic: string, seed: number, level: number): Promise<Exercise> {
  const t = findTopic(topic);
  if (t === undefined) throw new Error(`no topic ${topic}`);
  return generateExercise(t, seed, level);
}

const exVersion = async (page: Page): Promise<number> =>
  Number(await page.getByTestId('ex-status').getAttribute('data-version'));

/** Runs `action`, then waits until the exercise worker has answered it. */
async function generated(page: Page, action: () => Promise<void>): Promise<void> {
  const before = await exVersion(page);
  await action();
  await page.waitForFunction(
    (v) => {
      const s = document.querySelector('[data-testid=ex-status]');
      return (
        s !== null && Number(s.getAttribute('data-version')) > v && s.getAttribute('data-busy') === 'false'
      );
    },
    before,
    { timeout: 60_000 },
  );
  expect(await page.getByTestId('ex-error').count()).toBe(0);
}

/** The problem the page shows: its status, title, preformatted blocks and questions. */
async function shown(
  page: Page,
): Promise<{ seed: number; title: string; pre: string[]; questions: string[] }> {
  return {
    seed: Number(await page.getByTestId('ex-status').getAttribute('data-seed')),
    title: (await page.locator('.exercise h2').textContent()) ?? '',
    pre: await page.locator('.exercise pre').allTextContents(),
    questions: await page
      .locator('[data-testid^=ex-question-]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') ?? '')),
  };
}

/** What {@link shown} must be for `e`. */
const asShown = (e: Exercise): Awaited<ReturnType<typeof shown>> => ({
  seed: e.seed,
  title: e.title,
  pre: e.statement.filter((b) => b.kind !== 'text').map((b) => blockText(b).join('\n')),
  questions: e.questions.map((q) => `ex-question-${q.id}`),
});

async function mark(page: Page, id: string): Promise<string | null> {
  await page.getByTestId('ex-check').click();
  return page.getByTestId(`ex-mark-${id}`).getAttribute('data-right');
}

describe('the exercise mode of the view', () => {
  it('hides the answers until asked, marks answers, shows the model’s answer, takes the next seed', async () => {
    const v = new View(await env.browser.context.newPage());
    await v.load(env.ui.url);
    const page = v.page;
    await page.getByTestId('exercise-mode').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=ex-status][data-version="1"]'));

    const e = await expected('grants', 5, 2);
    await page.getByTestId('ex-topic').selectOption('grants');
    await page.getByTestId('ex-level').selectOption('2');
    await page.getByTestId('ex-seed').fill('5');
    await generated(page, () => page.getByTestId('ex-generate').click());
    expect(await shown(page)).toEqual(asShown(e));
    expect(e.statement.some((b) => b.kind === 'table')).toBe(true);

    const q = e.answers[0];
    if (q === undefined) throw new Error('no answer');
    const body = page.locator('body');
    expect(await page.getByTestId(`ex-key-${q.id}`).count()).toBe(0);
    expect(await body.textContent()).not.toContain(q.why);

    await page.getByTestId(`ex-input-${q.id}`).fill(`${q.value} 00`);
    expect(await mark(page, q.id)).toBe('false');
    expect(await page.getByTestId('ex-score').textContent()).toBe(`0 of ${e.questions.length} right`);
    expect(await body.textContent()).not.toContain(q.why);
    await v.shot('exercise-wrong');

    await page.getByTestId(`ex-show-${q.id}`).click();
    expect(await page.getByTestId(`ex-value-${q.id}`).textContent()).toBe(q.value);
    expect(await page.getByTestId(`ex-key-${q.id}`).textContent()).toContain(q.why);
    const other = e.answers[1];
    if (other !== undefined) expect(await page.getByTestId(`ex-key-${other.id}`).count()).toBe(0);

    await page.getByTestId(`ex-input-${q.id}`).fill(q.value.toUpperCase());
    expect(await page.getByTestId(`ex-mark-${q.id}`).count()).toBe(0);
    expect(await mark(page, q.id)).toBe('true');
    expect(await page.getByTestId('ex-score').textContent()).toBe(`1 of ${e.questions.length} right`);
    await v.shot('exercise-right');

    await generated(page, () => page.getByTestId('ex-new').click());
    expect(await shown(page)).toEqual(asShown(await expected('grants', 6, 2)));
    expect(await page.getByTestId(`ex-key-${q.id}`).count()).toBe(0);
    expect(await page.getByTestId(`ex-input-${q.id}`).inputValue()).toBe('');

    await page.getByTestId('simulator-mode').click();
    expect((await v.status()).version).toBeGreaterThan(0);
    expect(v.errors).toEqual([]);
    await page.close();
  });
});
