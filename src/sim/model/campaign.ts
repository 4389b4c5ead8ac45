// A fuzzing campaign over the model-based tester: runs of generated command sequences, each from its own run seed
// (which also seeds the random scheduler and picks cowSafecopy and the grant-id scheme), until the caller's budget
// says stop. Failures are shrunk (commands dropped while the failure persists) and reported with their run seed.
// A campaign can be cut into shards (run i belongs to shard i mod N), so shards run on worker threads or other
// machines and their summaries merge into the unsharded one. No clock: the caller measures time in `more`.
// Entry points: runCampaign, replayRun, shrinkCommands, runConfig, mergeSummaries.
import { Rng } from '../../lib/rng.ts';
import type { SystemConfig } from '../config.ts';
import { generateCommands } from './commands.ts';
import type { Command } from './commands.ts';
import { noChecks, runModel } from './executor.ts';
import type { CheckCounts, ModelRun } from './executor.ts';

export interface CampaignOptions {
  /** Seed of the run seeds. */
  seed: number;
  commandsPerRun: number;
  /** Overrides of the per-run config (e.g. cowSafecopy or grantIds forced by the user). */
  config?: Partial<SystemConfig>;
  /** sys.sanityCheck() after every kernel entry (default true) or after every command. */
  everyStep?: boolean;
  /** VM's full check every this many checks, its incremental check in between (ModelOptions.fullEvery). */
  fullEvery?: number | undefined;
  /** Called before run i of the campaign (from 0, counting every shard's runs): false ends the campaign. */
  more: (run: number) => boolean;
  /** Called after every run. */
  onRun?: (summary: Readonly<CampaignSummary>) => void;
  /** Shrink attempts per failure (default 300; 0 keeps the whole sequence). */
  shrinkBudget?: number;
  /** Run only the runs i of the campaign with i mod count = index (default: every run). */
  shard?: Shard;
}

/** A deterministic slice of a campaign's runs: run i (counting from 0) belongs to shard i mod count. */
export interface Shard {
  /** This slice, 0 ≤ index < count. */
  index: number;
  /** Number of slices the campaign is cut into. */
  count: number;
}

export interface CampaignFailure {
  kind: 'violation' | 'leak';
  /** The run's index in the campaign (0 for the first run), which orders failures across shards. */
  run: number;
  runSeed: number;
  message: string;
  /** The shrunk sequence that still fails (the whole sequence when shrinking is off). */
  commands: Command[];
  config: Partial<SystemConfig>;
}

export interface CampaignSummary {
  runs: number;
  commands: number;
  checks: number;
  /** The checks by kind, over every run (ModelRun.checksByKind added up). */
  checksByKind: CheckCounts;
  failures: CampaignFailure[];
  /** How often each command kind met each outcome, over every run (ModelRun.coverage added up). */
  coverage: Record<string, number>;
}

/** A summary of no runs. */
const emptySummary = (): CampaignSummary => ({
  runs: 0,
  commands: 0,
  checks: 0,
  checksByKind: noChecks(),
  failures: [],
  coverage: {},
});

/** Adds the counts of `more` into `into`. */
function addCoverage(into: Record<string, number>, more: Readonly<Record<string, number>>): void {
  for (const [k, n] of Object.entries(more)) into[k] = (into[k] ?? 0) + n;
}

/** Adds the check counts of `more` into `into`. */
function addChecks(into: CheckCounts, more: Readonly<CheckCounts>): void {
  into.incremental += more.incremental;
  into.full += more.full;
  into.grant += more.grant;
  into.ds += more.ds;
}

/** The config of one run: its seed drives the random scheduler and picks the COW and grant-id modes. */
export function runConfig(runSeed: number, overrides: Partial<SystemConfig> = {}): Partial<SystemConfig> {
  return {
    schedule: 'random',
    seed: runSeed,
    cowSafecopy: (runSeed & 1) === 0,
    grantIds: (runSeed & 2) === 0 ? 'generational' : 'legacy',
    ...overrides,
  };
}

const failureOf = (r: ModelRun): { kind: CampaignFailure['kind']; message: string } | null =>
  r.violation !== null
    ? { kind: 'violation', message: `command ${r.violation.index}: ${r.violation.message}` }
    : r.leaks.length > 0
      ? { kind: 'leak', message: r.leaks.join('; ') }
      : null;

/**
 * Drops commands while the run still fails the same way (violation or leak): first halves, then single commands,
 * at most `budget` runs. Returns the smallest failing sequence found.
 */
export async function shrinkCommands(
  commands: readonly Command[],
  config: Partial<SystemConfig>,
  kind: CampaignFailure['kind'],
  budget: number,
  everyStep = false,
  fullEvery?: number,
): Promise<Command[]> {
  let best = [...commands];
  let tries = 0;
  const fails = async (cs: Command[]): Promise<boolean> => {
    tries++;
    const r = await runModel(cs, { config, everyStep, fullEvery, hashes: false });
    return failureOf(r)?.kind === kind;
  };
  for (let chunk = Math.floor(best.length / 2); chunk >= 1 && tries < budget; chunk = Math.floor(chunk / 2)) {
    for (let at = best.length - chunk; at >= 0 && tries < budget; at -= chunk) {
      const candidate = [...best.slice(0, at), ...best.slice(at + chunk)];
      if (await fails(candidate)) best = candidate;
    }
  }
  return best;
}

/** Replays one run of a campaign (same run seed, same commands, same config): the commands and the run. */
export async function replayRun(
  runSeed: number,
  commandsPerRun: number,
  overrides: Partial<SystemConfig> = {},
  everyStep = true,
  fullEvery?: number,
): Promise<{ commands: Command[]; run: ModelRun }> {
  const commands = generateCommands(runSeed, commandsPerRun);
  return {
    commands,
    run: await runModel(commands, { config: runConfig(runSeed, overrides), everyStep, fullEvery }),
  };
}

/**
 * Runs until `more` says stop; every failure is shrunk and kept with its run seed.
 * Run i's seed is the i-th number of the campaign seed's sequence, whichever shard runs it.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignSummary> {
  const seeds = new Rng(o.seed);
  const { index, count } = o.shard ?? { index: 0, count: 1 };
  const summary = emptySummary();
  for (let run = 0; o.more(run); run++) {
    const runSeed = seeds.next();
    if (run % count !== index) continue;
    const commands = generateCommands(runSeed, o.commandsPerRun);
    const config = runConfig(runSeed, o.config);
    const everyStep = o.everyStep ?? true;
    const r = await runModel(commands, { config, everyStep, fullEvery: o.fullEvery, hashes: false });
    summary.runs++;
    summary.commands += r.commands;
    summary.checks += r.checks;
    addChecks(summary.checksByKind, r.checksByKind);
    addCoverage(summary.coverage, r.coverage);
    const f = failureOf(r);
    if (f !== null) {
      const shrunk = await shrinkCommands(
        commands,
        config,
        f.kind,
        o.shrinkBudget ?? 300,
        everyStep,
        o.fullEvery,
      );
      const again = failureOf(
        await runModel(shrunk, { config, everyStep, fullEvery: o.fullEvery, hashes: false }),
      );
      summary.failures.push({
        kind: f.kind,
        run,
        runSeed,
        message: again?.message ?? f.message,
        commands: shrunk,
        config,
      });
    }
    o.onRun?.(summary);
  }
  return summary;
}

/** One summary of several shards' (or campaigns'): totals added, failures in run order. */
export function mergeSummaries(parts: readonly CampaignSummary[]): CampaignSummary {
  const merged = emptySummary();
  for (const p of parts) {
    merged.runs += p.runs;
    merged.commands += p.commands;
    merged.checks += p.checks;
    addChecks(merged.checksByKind, p.checksByKind);
    merged.failures.push(...p.failures);
    addCoverage(merged.coverage, p.coverage);
  }
  merged.coverage = Object.fromEntries(
    Object.entries(merged.coverage).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  merged.failures.sort((a, b) => a.run - b.run);
  return merged;
}
