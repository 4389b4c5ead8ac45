// Parsing of the CLI's shared options (--seed, --memory, switches) into a partial SystemConfig. A bad value
// is a UsageError: one clear line and exit code 2, never a stack trace. Entry points: parseSize,
// parseSeed, configFromOptions, UsageError.
import { InvalidArgumentError } from 'commander';
import type { SystemConfig } from '../sim/config.ts';
import { loadProfile } from './profileoption.ts';

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

export function parseSeed(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new InvalidArgumentError(`'${text}' is not an integer seed`);
  return Number(text);
}

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

export interface CommonOptions {
  seed?: number;
  memory?: number;
  sanity?: string;
  cow?: boolean;
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
