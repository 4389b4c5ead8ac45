// What every invariant checker's detection tests check: for each rule of the checker's list, a crafted corruption of
// a valid state makes the check panic with a message that starts by naming that rule and names no other rule of the
// list; and every listed rule has such a corruption. Entry points: ruleDetectionTests, onFresh.
import { describe, expect, it } from 'vitest';
import { Panic } from '../../src/lib/assert.ts';

/** One checker's rules and their detection cases. */
export interface RuleDetection<R extends string> {
  /** The describe() title. */
  title: string;
  /** The checker's exported list of rule names. */
  rules: readonly R[];
  /** How the panic message of `rule` starts (the rule's name and what precedes it). */
  start: (rule: R) => string;
  /** Where a message names a rule of this checker: a global regex whose group 1 is the name. */
  named: RegExp;
  /** Per rule: corrupts a fresh valid state and returns (or resolves to) the check, which must then panic naming the rule. */
  corruptions: Record<R, () => (() => void) | Promise<() => void>>;
}

/** The message of the Panic that `check` throws (fails the test if it throws nothing or something else). */
function panicOf(check: () => void): string {
  try {
    check();
  } catch (e) {
    expect(e).toBeInstanceOf(Panic);
    return (e as Panic).message;
  }
  return expect.unreachable('the check passed: the corruption went undetected');
}

/** A test per rule of `d.rules`, and one that fails when a listed rule has no corruption (or an unlisted one has). */
export function ruleDetectionTests<R extends string>(d: RuleDetection<R>): void {
  describe(d.title, () => {
    it.each(d.rules)('%s', async (rule) => {
      const message = panicOf(await d.corruptions[rule]());
      expect(message.startsWith(d.start(rule)), message).toBe(true);
      expect([...message.matchAll(d.named)].map((m) => m[1])).toEqual([rule]);
    });

    it('every listed rule has a detection test, and only listed rules have one', () => {
      expect(Object.keys(d.corruptions).sort()).toEqual([...d.rules].sort());
    });
  });
}

/**
 * Corruptions that each change a fresh valid state in place, as RuleDetection wants them: per rule, build the state
 * with `valid`, corrupt it, and hand back `check` on it.
 */
export function onFresh<S, R extends string>(
  valid: () => S | Promise<S>,
  check: (s: S) => void,
  corruptions: Record<R, (s: S) => void>,
): Record<R, () => Promise<() => void>> {
  const out = {} as Record<R, () => Promise<() => void>>;
  for (const rule of Object.keys(corruptions) as R[]) {
    out[rule] = async () => {
      const s = await valid();
      corruptions[rule](s);
      return () => {
        check(s);
      };
    };
  }
  return out;
}
