// Runs many grantvm command lines fast: one host process (cli-host-process.ts, started by cli-host-boot.mjs)
// loads the CLI once and runs each command line through its main(), so a command costs no Node start and no
// TypeScript loading of its own; `npx grantvm` in shell lines goes to it through a small client
// (cli-host-client.mjs), and `grantvm` calls from a test go to it straight over its socket. Output, working
// directory and exit code are the command's, as in its own process (its environment is plainEnv's: colours off).
// The hosts of the docs tests share their runs (cli-host-runs.ts). Entry point: cliHost.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { plainEnv, root } from './cli.ts';
import type { CliResult } from './cli.ts';
import { SCRATCH_PREFIX } from './cli-host-runs.ts';

/** A grantvm host for one test file's tests. */
export interface CliHost {
  /** Runs a shell line in `cwd`, where `npx grantvm ARGS` is a command line run by the host. */
  sh(line: string, cwd?: string): CliResult;
  /** Runs `grantvm ARGS` in `cwd` (default: the repository root), as grantvm of cli.ts runs it in a process. */
  grantvm(args: readonly string[], cwd?: string): Promise<CliResult>;
  /**
   * The host's scratch directory (under SCRATCH_PREFIX), emptied but for a link to the repository's examples: a
   * page's working directory (docs.ts, runAll). Each page gets the same path, so that the scenario worker the host
   * keeps between commands, which is kept only in the directory it started in (src/cli/runner.ts), serves every
   * page instead of starting anew for each.
   */
  scratch(): string;
}

const boot = join(root, 'test/helpers/cli-host-boot.mjs');
const client = join(root, 'test/helpers/cli-host-client.mjs');

async function start(socket: string, runs: string | undefined): Promise<ChildProcess> {
  const child = spawn(process.execPath, [boot, socket], {
    cwd: root,
    env: { ...plainEnv(), ...(runs === undefined ? {} : { GRANTVM_HOST_RUNS: runs }) },
    // Not the terminal the tests may run in: a command's output is piped, as in the docs' shell lines.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => {
      resolve();
    });
    child.once('exit', (code) => {
      reject(
        new Error(`the grantvm test host ended (exit code ${String(code)}) before it listened:\n${stderr}`),
      );
    });
  });
  return child;
}

/** Sends one command line to the host listening at `socket` and resolves with what the command wrote and its code. */
function ask(socket: string, argv: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => {
      resolve(JSON.parse(text) as CliResult);
    });
    conn.on('error', reject);
    conn.write(`${JSON.stringify({ argv, cwd })}\n`);
  });
}

/**
 * Starts a host before the file's tests and ends it after them. With `shareRuns`, a command line run with the same
 * inputs by another sharing host in this test run is not run again (cli-host-runs.ts): for the docs tests, which
 * only check that a line succeeds.
 */
export function cliHost(shareRuns = false): CliHost {
  let dir = '';
  let scratch = '';
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grantvm-host-'));
    scratch = mkdtempSync(SCRATCH_PREFIX);
    // The shared project's global setup provides the store; a file run in another project shares nothing.
    const runs: string | undefined = shareRuns ? inject('hostRuns') : undefined;
    child = await start(join(dir, 'socket'), runs);
  });
  afterAll(async () => {
    // Waited for, so that the host is gone (and its time counted as this process's) when the file ends.
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once('exit', resolve));
      child.kill();
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  const shim = (): string =>
    `npx() { if [ "$1" = grantvm ]; then shift; "${process.execPath}" "${client}" "$@"; else command npx "$@"; fi; }`;
  return {
    sh: (line, cwd = root) => {
      const env = { ...plainEnv(), GRANTVM_HOST_SOCKET: join(dir, 'socket') };
      const r = spawnSync('sh', ['-c', `${shim()}\n${line}`], {
        cwd,
        encoding: 'utf8',
        env,
        timeout: 240_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    grantvm: (args, cwd = root) => ask(join(dir, 'socket'), args, cwd),
    scratch: () => {
      for (const name of readdirSync(scratch)) rmSync(join(scratch, name), { recursive: true, force: true });
      symlinkSync(join(root, 'examples'), join(scratch, 'examples'));
      return scratch;
    },
  };
}
