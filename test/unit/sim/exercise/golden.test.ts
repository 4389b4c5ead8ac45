// Golden problems: a few problems per topic, checked by hand once, must come out the same, statement, answers and
// explanations alike (a change to the model or the generator that alters them shows here). Regenerate a file
// only after checking the new text by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTopic } from '../../../../src/sim/exercise/registry.ts';
import { exerciseText } from '../../../../src/sim/exercise/render.ts';
import { GOLDEN } from './golden.ts';

describe('exercise golden files', () => {
  for (const [topic, seed, level] of GOLDEN) {
    it(`${topic} seed ${seed} level ${level}`, async () => {
      const t = findTopic(topic);
      expect(t).toBeDefined();
      const e = await t?.generate(seed, level);
      const want = readFileSync(join(import.meta.dirname, 'golden', `${topic}-${seed}-${level}.txt`), 'utf8');
      expect(e === undefined ? '' : `${exerciseText(e, true)}\n`).toBe(want);
    });
  }
});
