// Runs many grantvm command lines fast: one host process (cli-host-process.ts, started by cli-host-boot.mjs)
// loads the CLI once and runs each command line through its main(), so a command costs no Node start and no
// TypeScript loading of its own; `npx grantvm` in shell lines goes to it through a small client
// (cli-host-client.mjs), and `grantvm` calls from a test go to it straight over its socket. Output, working
// directory and exit code are the command's, as in its own process (its environment is plainEnv's: colours off).
// A file's host is its Vitest pool slot's, started once for the run (cli-host-pool.ts); the docs tests share their
// runs (cli-host-runs.ts). Entry point: cliHost.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { plainEnv, root } from './cli.ts';
import type { CliResult } from './cli.ts';
import { hostOfSlot, startHost } from './cli-host-pool.ts';
import type { StartedHost } from './cli-host-pool.ts';

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

const client = join(root, 'test/helpers/cli-host-client.mjs');

/**
 * Sends one command line to the host listening at `socket` and resolves with what the command wrote and its code;
 * `share`: the run may be shared with the docs tests' other hosts (cli-host-runs.ts).
 */
function ask(socket: string, argv: readonly string[], cwd: string, share: boolean): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => {
      resolve(JSON.parse(text) as CliResult);
    });
    conn.on('error', reject);
    conn.write(`${JSON.stringify({ argv, cwd, share })}\n`);
  });
}

/** Where a host listens, and its scratch directory. */
type HostPlace = Pick<StartedHost, 'socket' | 'scratch'>;

/**
 * The host of this file's Vitest pool slot, started by the shared project's global setup for the whole run
 * (cli-host-pool.ts), or, in a run without that setup (another project, a mutation run), a host of the file's own,
 * started before its tests and ended after them.
 */
function fileHost(): () => HostPlace {
  let host: HostPlace | undefined;
  let own: StartedHost | undefined;
  beforeAll(async () => {
    const pool: string | undefined = inject('hostPool');
    if (pool === undefined) host = own = await startHost();
    else host = await hostOfSlot(pool, process.env.VITEST_POOL_ID ?? '1');
  });
  afterAll(async () => {
    // Waited for, so that an own host is gone (and its time counted as this process's) when the file ends.
    await own?.stop();
  });
  return () => {
    if (host === undefined)
      throw new Error('the grantvm test host is asked before the file starts its tests');
    return host;
  };
}

/**
 * A grantvm host for the file's tests. With `shareRuns`, a command line run with the same inputs by another
 * sharing host in this test run is not run again (cli-host-runs.ts), and a `bench` line runs one round: for the
 * docs tests, which only check that a line succeeds.
 */
export function cliHost(shareRuns = false): CliHost {
  const host = fileHost();
  const shim = (): string =>
    `npx() { if [ "$1" = grantvm ]; then shift; "${process.execPath}" "${client}" "$@"; else command npx "$@"; fi; }`;
  return {
    sh: (line, cwd = root) => {
      const env = {
        ...plainEnv(),
        GRANTVM_HOST_SOCKET: host().socket,
        ...(shareRuns ? { GRANTVM_HOST_SHARE: '1' } : {}),
      };
      const r = spawnSync('sh', ['-c', `${shim()}\n${line}`], {
        cwd,
        encoding: 'utf8',
        env,
        timeout: 240_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    grantvm: (args, cwd = root) => ask(host().socket, args, cwd, shareRuns),
    scratch: () => {
      const { scratch } = host();
      for (const name of readdirSync(scratch)) rmSync(join(scratch, name), { recursive: true, force: true });
      symlinkSync(join(root, 'examples'), join(scratch, 'examples'));
      return scratch;
    },
  };
}
