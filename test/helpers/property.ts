// Property tests: `fcTest.prop(arbitraries, params)(name, body, timeout)` registers one Vitest test that checks
// `body` over values of `arbitraries` with fast-check's assert, as @fast-check/vitest's test.prop does for the
// array form the suite uses: a random seed unless `params` sets one, shown in the test's name (a failure's report
// gives the seed and path to replay it), a body that may be async and fails by throwing or by returning false.
// Why not that package: importing it builds its chained test API (every order of skip, only, concurrent, ...),
// about 4 s of CPU in every Vitest worker that imports it, longer than most property tests take to run. Entry
// points: fcTest, fc.
import fc from 'fast-check';
import { it } from 'vitest';

export { fc };

/** A property's body: the values drawn, in the order of the arbitraries; it fails by throwing or returning false. */
type Body<Ts extends unknown[]> = (...values: Ts) => boolean | void | Promise<boolean | void>;

/** The test of a property over `arbitraries`, checked with `params` (fast-check's; its seed is random if unset). */
function prop<Ts extends [unknown, ...unknown[]]>(
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  params: fc.Parameters<Ts> = {},
): (name: string, body: Body<Ts>, timeout?: number) => void {
  // Host randomness is fine here (test code): a new seed each run, as @fast-check/vitest draws it.
  const seed = params.seed ?? Date.now() ^ (Math.random() * 0x100000000);
  return (name, body, timeout) => {
    it(
      `${name} (with seed=${String(seed)})`,
      async () => {
        const property = fc.asyncProperty(...arbitraries, (...values: Ts) =>
          Promise.resolve(body(...values)),
        );
        await fc.assert(property, { ...params, seed });
      },
      timeout,
    );
  };
}

/** Property tests, as `test` of @fast-check/vitest: `fcTest.prop([arbitraries], params)(name, body, timeout)`. */
export const fcTest = { prop };
