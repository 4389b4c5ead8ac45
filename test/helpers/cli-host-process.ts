// The process behind cliHost (cli-host.ts): one Node process, tsx loaded once, that runs grantvm command lines
// sent over a Unix socket through the CLI's own main(), one at a time, each in the working directory it names,
// with its stdout and stderr captured and its exit code returned. The socket's path is the first argument; the
// process says 'ready' over its IPC channel once it listens, and ends when its parent goes. A command's scenario
// worker is kept for the next command unless it imported a .js/.mjs scenario file (keepScenarioWorkers), and the
// fuzz and faults job workers for the next jobs (keepJobWorkers). With GRANTVM_HOST_RUNS (a directory), a request
// marked `share` (a docs test's line) is taken from there when another host made the same run already
// (cli-host-runs.ts), and its `bench` line runs one round (docsRequest); other requests run as asked.
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { main } from '../../src/cli/main.ts';
import { keepScenarioWorkers } from '../../src/cli/runner.ts';
import { keepJobWorkers } from '../../src/cli/workers.ts';
import { sharedRun } from './cli-host-runs.ts';
import type { CliResult } from './cli.ts';

/** What the client (cli-host-client.mjs) sends: one line of JSON. */
interface Request {
  argv: string[];
  cwd: string;
  /** The run may be shared with the docs tests' other hosts (a docs test's line): see docsRequest. */
  share?: boolean;
}

type Write = typeof process.stdout.write;

/** A write of process.stdout or process.stderr that appends to `into` instead. */
function capture(into: string[]): Write {
  return (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  };
}

/** Runs one command line as the grantvm process would, but returns what it wrote and its exit code. */
async function run({ argv, cwd }: Request): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const own = { out: process.stdout.write, err: process.stderr.write };
  process.chdir(cwd);
  process.exitCode = undefined;
  process.stdout.write = capture(stdout);
  process.stderr.write = capture(stderr);
  let status: number;
  try {
    status = await main(argv);
  } catch (err) {
    // What Node prints for an error a process does not catch.
    stderr.push(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    status = 1;
  } finally {
    process.stdout.write = own.out;
    process.stderr.write = own.err;
    process.exitCode = undefined;
  }
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}

/**
 * For a docs test's line (a request that shares its run): a `bench` line that names no --rounds runs one round. A round
 * is the whole benchmark, and the docs tests only check that the line succeeds and writes its files; the default three
 * rounds of the README's safeperf sweep would cost about 7 s of CPU more for the same check.
 */
function docsRequest(request: Request, docs: boolean): Request {
  const { argv } = request;
  if (!docs || argv[0] !== 'bench' || argv.some((a) => a.startsWith('--rounds'))) return request;
  return { ...request, argv: [...argv, '--rounds', '1'] };
}

let queue: Promise<unknown> = Promise.resolve();

function serve(conn: Socket): void {
  let text = '';
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => {
    text += chunk;
    if (!text.includes('\n')) return;
    const asked = JSON.parse(text) as Request;
    const runs = asked.share === true ? process.env.GRANTVM_HOST_RUNS : undefined;
    const request = docsRequest(asked, runs !== undefined);
    queue = queue.then(async () => {
      const result =
        runs === undefined
          ? await run(request)
          : await sharedRun(runs, request.argv, request.cwd, () => run(request)).catch(
              (err: unknown): CliResult => ({
                status: 1,
                stdout: '',
                stderr: `grantvm test host: ${String(err)}\n`,
              }),
            );
      conn.end(`${JSON.stringify(result)}\n`);
    });
  });
}

keepScenarioWorkers();
keepJobWorkers();
const socket = process.argv[2] ?? '';
createServer(serve).listen(socket, () => process.send?.('ready'));
process.on('disconnect', () => process.exit(0));
