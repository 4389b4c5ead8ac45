// A setup file of every test file (vitest.config.ts, setupFiles): Vitest's toEqual compares two typed arrays index by
// index twice (its iterable equality, then their enumerable entries, which are every index again as a string), about
// 0.7 s for two 32 KiB copies of memory on a loaded machine. This tester answers for two typed arrays of the same kind
// that are deeply and strictly equal (node:util, which compares their bytes and any other own property): they pass
// toEqual and toStrictEqual too, so it answers "equal" only; any other pair it leaves to Vitest, whose verdict and diff
// are unchanged.
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';

const isTypedArray = (x: unknown): x is ArrayBufferView => ArrayBuffer.isView(x) && !(x instanceof DataView);

/** true for two equal typed arrays of one kind; undefined (Vitest's own comparison) for anything else. */
export function equalTypedArrays(a: unknown, b: unknown): true | undefined {
  if (!isTypedArray(a) || !isTypedArray(b) || a.constructor !== b.constructor) return undefined;
  return isDeepStrictEqual(a, b) ? true : undefined;
}

// With isolate: false a worker runs its setup files again before each of its test files, and Vitest keeps every
// tester it is given: add it once per worker.
const ADDED = Symbol.for('grantvm.equalTypedArrays');
const worker = globalThis as { [ADDED]?: true };
if (worker[ADDED] === undefined) {
  expect.addEqualityTesters([equalTypedArrays]);
  worker[ADDED] = true;
}
