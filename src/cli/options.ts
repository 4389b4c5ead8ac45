// Parsing of the CLI's shared options (--seed, --memory, switches, the run limits, output files) into a
// partial SystemConfig and checked values. A bad value is a UsageError: one clear line and exit code 2, never a
// stack trace, before any work starts. Entry points: parseSize, parseMemory, parseSeed, parseCount, parseStep,
// parsePositive, parseSeconds, configFromOptions, limitsFromOptions, checkWritable, UsageError.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { SystemConfig } from '../sim/config.ts';
import { DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_SECONDS } from './runner.ts';
import type { RunLimits } from './runner.ts';
import { loadProfile } from './profileoption.ts';

/** A mistake on the command line: the CLI prints its message as one line and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** "64M", "64MiB", "1G", "4096", "512K" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (m === null) throw new InvalidArgumentError(`'${text}' is not a size (examples: 64M, 1G, 512K)`);
  const unit = (m[2] ?? '').toLowerCase()[0] ?? '';
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

const MIN_MEMORY = 4 * 1024 ** 2;
const MAX_MEMORY = 4 * 1024 ** 3;

/** --memory: a size from 4M to 4G in whole 4 KiB pages. */
export function parseMemory(text: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch {
    bytes = Number.NaN;
  }
  if (!(bytes >= MIN_MEMORY && bytes <= MAX_MEMORY) || bytes % 4096 !== 0) throw new UsageError(`--memory must be 4M–4G in whole pages (e.g. 64M, 1G), got '${text}'`);
  return bytes;
}

/** The largest seed: seeds are 32-bit (the model's random source takes 32 bits). */
export const MAX_SEED = 2 ** 32 - 1;

/** A seed: an integer in 0…2^32−1 (a larger one would silently wrap). */
export function parseSeed(text: string): number {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n > MAX_SEED) throw new InvalidArgumentError(`'${text}' is not a seed (an integer in 0…${MAX_SEED})`);
  return n;
}

/** A count: a non-negative integer. */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`'${text}' is not a non-negative integer`);
  return Number(text);
}

/** A kernel step to stop at: a positive integer (step 0 is before anything has run). */
export function parseStep(text: string): number {
  const n = parseCount(text);
  if (n === 0) throw new InvalidArgumentError('the first kernel step is 1');
  return n;
}

/** A positive integer (a number of runs, rounds, steps). */
export function parsePositive(text: string): number {
  const n = parseCount(text);
  if (n === 0 || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${text}' is not a positive integer`);
  return n;
}

/** A positive number of seconds ("30", "2.5"). */
export function parseSeconds(text: string): number {
  const n = Number(text.trim());
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0) || n > 2_000_000) throw new InvalidArgumentError(`'${text}' is not a positive number of seconds`);
  return n;
}

/** The run-limit options (--max-steps, --timeout) as given. */
export interface LimitOptions {
  maxSteps?: number;
  timeout?: number;
}

/** The limits of a run: the options given, else the defaults. */
export function limitsFromOptions(o: LimitOptions): RunLimits {
  return { maxSteps: o.maxSteps ?? DEFAULT_MAX_STEPS, timeoutSeconds: o.timeout ?? DEFAULT_TIMEOUT_SECONDS };
}

/**
 * Checks, before any work, that `file` (the value of `option`) can be written: its directory exists and is
 * writable, and it is not a directory or a read-only file. A UsageError otherwise.
 */
export function checkWritable(file: string, option: string): void {
  const path = resolve(file);
  const problem = (why: string): UsageError => new UsageError(`${option} ${file}: ${why}`);
  let isDir = false;
  let exists = true;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    exists = false;
  }
  if (isDir) throw problem('is a directory');
  try {
    accessSync(exists ? path : dirname(path), constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw problem(code === 'ENOENT' ? `no such directory ${dirname(path)}` : exists ? 'cannot be written (no permission)' : `cannot create it in ${dirname(path)} (no permission)`);
  }
  if (!exists && !statSync(dirname(path)).isDirectory()) throw problem(`${dirname(path)} is not a directory`);
}

export interface CommonOptions {
  seed?: number;
  memory?: number;
  sanity?: string;
  cow?: boolean;
  cowBreak?: string;
  grantIds?: string;
  schedule?: string;
  /** --profile: a built-in profile name or a profile .json file. */
  profile?: string;
}

const sanityLevels = ['off', 'top', 'functions', 'detail'] as const;

export function configFromOptions(o: CommonOptions): Partial<SystemConfig> {
  const c: Partial<SystemConfig> = {};
  if (o.seed !== undefined) c.seed = o.seed;
  if (o.memory !== undefined) c.ramBytes = o.memory;
  if (o.sanity !== undefined) {
    const level = sanityLevels.find((l) => l === o.sanity);
    if (level === undefined) throw new UsageError(`--sanity must be one of ${sanityLevels.join(', ')}`);
    c.sanity = level;
  }
  // commander gives cow = true unless --no-cow: only an explicit --no-cow overrides a scenario's setting.
  if (o.cow === false) c.cowSafecopy = false;
  if (o.cowBreak !== undefined) {
    if (o.cowBreak !== 'block' && o.cowBreak !== 'page') throw new UsageError('--cow-break must be block or page');
    c.cowBreak = o.cowBreak;
  }
  if (o.grantIds !== undefined) {
    if (o.grantIds !== 'generational' && o.grantIds !== 'legacy') throw new UsageError('--grant-ids must be generational or legacy');
    c.grantIds = o.grantIds;
  }
  if (o.schedule !== undefined) {
    if (o.schedule !== 'priority' && o.schedule !== 'random') throw new UsageError('--schedule must be priority or random');
    c.schedule = o.schedule;
  }
  if (o.profile !== undefined) c.profile = loadProfile(o.profile);
  return c;
}
