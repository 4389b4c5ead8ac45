// Golden problems: a few problems per topic, checked by hand once, must come out the same, statement, answers and
// explanations alike (a change to the model or the generator that alters them shows here). Regenerate a file
// only after checking the new text by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTopic } from '../../../../src/sim/exercise/registry.ts';
import { exerciseText } from '../../../../src/sim/exercise/render.ts';
import { GOLDEN } from './golden.ts';

const root = join(import.meta.dirname, '../../../..');
const golden = (topic: string, seed: number, level: number): string =>
  readFileSync(join(import.meta.dirname, 'golden', `${topic}-${seed}-${level}.txt`), 'utf8');

describe('exercise golden files', () => {
  it('docs/exercises.md shows its worked examples exactly as the golden files have them', () => {
    const doc = readFileSync(join(root, 'docs/exercises.md'), 'utf8');
    const shown = GOLDEN.filter(([t, s, l]) =>
      doc.includes(`exercise ${t} --seed ${s} --level ${l} --answers`),
    );
    expect(shown.length).toBeGreaterThanOrEqual(7);
    for (const [t, s, l] of shown) expect(doc, `${t} ${s} ${l}`).toContain(golden(t, s, l));
  });

  for (const [topic, seed, level] of GOLDEN) {
    it(`${topic} seed ${seed} level ${level}`, async () => {
      const t = findTopic(topic);
      expect(t).toBeDefined();
      const e = await t?.generate(seed, level);
      expect(e === undefined ? '' : `${exerciseText(e, true)}\n`).toBe(golden(topic, seed, level));
    });
  }
});
