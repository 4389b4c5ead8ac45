// What every exercise generator shares: its seeded random source, hex numbers as the statements print them, and
// a small booted system to run the problem on. Entry points: exerciseRng, hex, pick, shuffle, bootSmall.
import { Rng, fnv1a } from '../../lib/rng.ts';
import { MiB } from '../../lib/units.ts';
import { createSystem } from '../system.ts';
import type { System } from '../system.ts';
import type { SystemConfig } from '../config.ts';

/** The random source of one problem: topic, seed and level each change it. */
export const exerciseRng = (topic: string, seed: number, level: number): Rng =>
  new Rng(fnv1a(`${topic}:${seed}:${level}`));

/** 0x-prefixed lower-case hex, padded to `digits`. */
export const hex = (n: number, digits = 0): string => `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;

/** One element of a non-empty list. */
export function pick<T>(rng: Rng, list: readonly T[]): T {
  const x = list[rng.int(list.length)];
  if (x === undefined) throw new RangeError('pick: empty list');
  return x;
}

/** `n` distinct integers of [lo, hi), in random order. */
export function distinctInts(rng: Rng, n: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const x = lo + rng.int(hi - lo);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}

/**
 * A freshly booted 8 MiB system with 32 process slots, sanity off, trace in memory: cheap enough for a hundred
 * problems. `config` overrides any of it (a topic's variant, e.g. a copy-on-write switch).
 */
export const bootSmall = (config: Partial<SystemConfig> = {}): Promise<System> =>
  createSystem({ ramBytes: 8 * MiB, nrProcs: 32, sanity: 'off', trace: 'memory', ...config });
