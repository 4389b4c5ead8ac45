// The problems kept as golden files (test/unit/sim/exercise/golden/TOPIC-SEED-LEVEL.txt), each checked by hand.
// Entry points: GOLDEN.

/** Topic, seed and level of each golden file. */
export const GOLDEN: readonly (readonly [string, number, number])[] = [
  ['alloc', 1, 1],
  ['alloc', 2, 2],
  ['pagewalk', 1, 2],
  ['grants', 1, 2],
  ['cowfork', 1, 2],
  ['cowsafecopy', 1, 1],
  ['cowsafecopy', 11, 3],
  ['safemap', 1, 2],
  ['ds', 1, 1],
  ['cost', 5, 1],
];
