// The grantvm command (the only code that may touch node:*): run, inspect, and the commands the other
// layers add. Bad options give one line and exit code 2; a failed run exits 1. Entry points: main (a command line
// to an exit code; entry.ts runs it as the process), buildProgram, withSystemOptions, withRunLimits.
import { Command, CommanderError, Option } from 'commander';
import { fuzzCommand, fuzzMergeCommand, parseMinutes, parseShard } from './commands/fuzz.ts';
import { parseJobs } from './workers.ts';
import { runCommand } from './commands/run.ts';
import { compareCommand } from './commands/compare.ts';
import { inspectCommand } from './commands/inspect.ts';
import { traceCommand } from './commands/trace.ts';
import { benchCommand } from './commands/bench.ts';
import { testCommand } from './commands/test.ts';
import { faultsCommand } from './commands/faults.ts';
import { UsageError, parseCount, parseMemory, parsePositive, parseSeconds, parseSeed, parseStep } from './options.ts';
import { ConfigError } from '../sim/system.ts';
import { parsePort, uiCommand } from './commands/ui.ts';
import { DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_SECONDS, RunStopped } from './runner.ts';
import { exerciseCommand } from './commands/exercise.ts';
import { PROFILE_OPTION_HELP } from './profileoption.ts';

/** Options every command that boots a system accepts. */
export function withSystemOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed (0…4294967295) of every random choice; the default priority schedule makes none: use it with --schedule random', parseSeed)
    .option('--memory <size>', 'simulated RAM, 4M–4G in whole pages (e.g. 64M, 1G)', parseMemory)
    .addOption(new Option('--sanity <level>', 'VM sanity checks').choices(['off', 'top', 'functions', 'detail']))
    .option('--no-cow', 'turn the copy-on-write safecopy optimisation off')
    .addOption(new Option('--cow-break <mode>', 'copy-on-write break: block (MINIX: the whole block) or page (what-if: the written page)').choices(['block', 'page']))
    .addOption(new Option('--grant-ids <scheme>', 'grant id scheme').choices(['generational', 'legacy']))
    .addOption(new Option('--schedule <mode>', 'scheduler').choices(['priority', 'random']))
    .option('--profile <name|file.json>', PROFILE_OPTION_HELP);
}

/** The limits of the commands that run scenarios (each scenario runs in a worker thread, see runner.ts). */
export function withRunLimits(cmd: Command): Command {
  return cmd
    .option('--max-steps <n>', `stop a scenario after this many kernel steps (default ${DEFAULT_MAX_STEPS})`, parsePositive)
    .option('--timeout <seconds>', `stop a scenario that runs longer than this wall-clock time (default ${DEFAULT_TIMEOUT_SECONDS})`, parseSeconds);
}

/** The grantvm program: every command and option (main runs it; the docs test reads its help). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('grantvm')
    .description('An executable model of MINIX 3 memory grants, safecopy, safemap, DS and VM (2009-2010).')
    .configureOutput({
      // Every usage error is one line: commander's message (and its suggestion) joined, then where to look.
      outputError: (text, write) => {
        write(`grantvm: ${text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see --help)\n`);
      },
    })
    .exitOverride()
    // A subcommand's options follow it: `fuzz merge … --json F` is merge's --json, not fuzz's.
    .enablePositionalOptions();
  withRunLimits(withSystemOptions(program.command('run').description('boot a system and run scenarios, printing a report')))
    .argument('[scenarios...]', 'built-in scenario names, or .ts/.mts/.js/.mjs scenario files (default: the standard report)')
    .option('--list', 'list the built-in scenarios, or those of the scenario files named')
    .option('--trace <file>', 'write the trace as JSON Lines')
    .option('--svg <file>', 'with safeperf: draw its curves (simulated µs per page against pages) as an SVG chart')
    .option('-v, --verbose', 'print every line of every scenario')
    .action(runCommand);
  withRunLimits(withSystemOptions(program.command('inspect').description('boot a system and dump its state, as MINIX IS does')))
    .argument('[scenario]', 'run this scenario (built-in name or scenario file) first')
    .option('--at <step>', 'dump the state at this kernel step of the run instead of at its end', parseStep)
    .option('--json', 'print the snapshot as JSON')
    .action(inspectCommand);
  withRunLimits(withSystemOptions(program.command('test').description('run the conformance suites and print every check as passed or failed')))
    .argument('[suite]', 'safecopy, safemap, safeperf, any other tagged suite, or all (the default)')
    .option('-v, --verbose', "also print the test services' output")
    .action(testCommand);
  withRunLimits(withSystemOptions(program.command('trace').description('run a scenario and write its trace (JSON Lines or Chrome trace-event format)')))
    .argument('<scenario>', 'built-in scenario name or scenario file')
    .requiredOption('-o, --output <file>', 'where to write the trace')
    .addOption(new Option('--format <format>', 'jsonl, or chrome for chrome://tracing and Perfetto').choices(['jsonl', 'chrome']).default('jsonl'))
    .action(traceCommand);
  withRunLimits(withSystemOptions(program.command('compare').description('run one scenario under two configurations or cost profiles and compare simulated time and counts'))
    .argument('<scenario>', 'built-in scenario name or scenario file')
    .option('--a <settings>', 'side a: key=value pairs, comma-separated (profile, cowSafecopy, cowBreak, grantIds, schedule, sanity, seed, quantum, tlbEntries, ramBytes)')
    .option('--b <settings>', 'side b: the same keys, e.g. --a profile=i386-2010 --b profile=modern-x86')
    .option('--json <file>', 'write both sides\' figures as JSON'))
    .action(compareCommand);
  program
    .command('bench')
    .description('run the benchmarks against the host baselines of the same run; --json and an SVG chart of safeperf')
    .argument('[groups...]', 'ipc, mmu, grants, vm, ds, safeperf, accounting (default: all)')
    .option('--json <file>', 'write every result as JSON')
    .option('--svg <file>', 'draw the safeperf sweep (time per page against pages) as an SVG line chart')
    .option('--rounds <n>', 'rounds of ipc, mmu, grants, ds, safeperf and accounting (default: 7, 5, 5, 5, 3, 7); 1: goals indicative only', parseCount)
    .option('--clock <kind>', 'wall (default) or cpu: time ipc, grants, ds and vm by this process\'s CPU time, steadier on a busy machine')
    .action(benchCommand);
  withSystemOptions(program.command('faults').description('fault injection: kill each target at chosen steps of a workload, report per target and kill point'))
    .option('--targets <list>', 'comma-separated: user, grantor, driver, mapper, kv, ds (default: all)')
    .option('--points <n>', 'kill points per target (default 20)', parseCount)
    .option('--every-step', 'kill each target at every step it is active instead of at sampled points')
    .option('--signal <n>', 'signal of the kill (default 9, SIGKILL; 11 is a crash)', parseCount)
    .option('--jobs <n>', 'worker threads sharing the injections (default: the machine\'s processors)', parseJobs)
    .option('--json <file>', 'write the report, every injection included, as JSON')
    .action(faultsCommand);
  program
    .command('ui')
    .description('serve the browser view (build it first: npm run build:web) and print its URL')
    .option('--port <n>', 'port (0: any free port)', parsePort, 8377)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--dir <dir>', 'the bundle to serve (default: web/dist)')
    .action(uiCommand);
  withSystemOptions(program.command('fuzz').enablePositionalOptions().description('model-based fuzzing: random command sequences against a naive oracle, invariants and leaks'))
    .option('--runs <n>', 'number of runs (default 100)', parsePositive)
    .option('--minutes <m>', 'run for this long instead of a number of runs', parseMinutes)
    .option('--commands <n>', 'commands per run (default 40)', parseCount)
    .option('--replay <runSeed>', 'rerun one run of a campaign by its run seed, command by command', parseSeed)
    .option('--every-command', 'check invariants after every command instead of every kernel entry (faster)')
    .option('--full-every <k>', 'VM\'s full check every k checks, its incremental check in between (default 64; 1: always full)', parsePositive)
    .option('--shrink <n>', 'shrink attempts per failure (default 300)', parseCount)
    .option('--jobs <n>', 'worker threads, each running a share of the runs (default: the machine\'s processors)', parseJobs)
    .option('--shard <i/n>', 'run only the runs i, i+n, i+2n, … of the campaign (for batch runners; merge the reports)', parseShard)
    .option('--json <file>', 'write the report (totals, failures with their run seeds) as JSON')
    .option('--require-coverage', 'exit 1 when a command kind missed an outcome that a long campaign reaches')
    .action(fuzzCommand)
    .command('merge')
    .description('add up the --json reports of one campaign\'s shards into one report')
    .argument('<reports...>', 'JSON reports written by grantvm fuzz --json')
    .option('--json <file>', 'write the merged report as JSON')
    .option('--require-coverage', 'exit 1 when a command kind missed an outcome that a long campaign reaches')
    .action(fuzzMergeCommand);
  program
    .command('exercise')
    .description('a problem generated from a seed and solved by the model (page walk, grants, COW, safemap, allocator, DS)')
    .argument('[topic]', 'the topic (--list names them)')
    .option('--list', 'name the topics with one line each')
    .option('--seed <n>', 'seed of the problem (default 1)', parseSeed)
    .option('--level <n>', 'difficulty level (default 1)', parseCount)
    .option('--answers', 'print the answers with why, from what the model did')
    .option('--count <k>', 'problems of seeds N, N+1, ... (default 1)', parseCount)
    .addOption(new Option('--format <format>', 'text, md (a problem or answer sheet) or json').choices(['text', 'md', 'json']).default('text'))
    .option('--check <file>', "mark a student's answers: a JSON object of question id → answer")
    .action(exerciseCommand);
  return program;
}

/**
 * Runs one grantvm command line (`argv` without node and the script) and returns its exit code: 0, 1 for a failed
 * run, 2 for a usage error (one line on stderr). Output goes to process.stdout and process.stderr; the working
 * directory is process.cwd(). Another error is thrown, as a bug.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof RunStopped) {
      process.stderr.write(`grantvm: ${err.message}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`grantvm: ${err.message.split('\n').join('\ngrantvm: ')}\n`);
      return 2;
    }
    throw err;
  }
}
