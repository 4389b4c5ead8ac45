// One grantvm test host (cli-host-process.ts) per Vitest pool slot, for the whole test run, instead of one per
// test file: the shared project's global setup (cli-host-runs-setup.ts) runs the pool in Vitest's own process,
// and a test file's cliHost (cli-host.ts) asks it for the host of its slot (VITEST_POOL_ID). A slot runs one file
// at a time, so its host serves one file at a time, as a host of the file's own would; what the next file gets
// is a host already started, with its scenario and job workers kept (a host start costs about 1.4 s of CPU, its
// first scenario worker about 1.8 s). A host that ended (a command ended its process) is started again for the
// next file that asks. The pool starts a host only when a file asks for it, ends every host when a watch-mode run
// starts again (a host has loaded the sources as they were), and ends them all, waited for, when the run ends.
// Entry points: startHost, startHostPool, hostOfSlot.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainEnv, root } from './cli.ts';
import { SCRATCH_PREFIX } from './cli-host-runs.ts';

const boot = join(root, 'test/helpers/cli-host-boot.mjs');

/** A started host: the socket it listens at, its scratch directory, whether it still runs, its end. */
export interface StartedHost {
  /** The Unix socket it takes command lines at. */
  socket: string;
  /** The directory the docs tests run their pages in (emptied by cliHost's scratch). */
  scratch: string;
  /** Whether its process still runs. */
  alive(): boolean;
  /** Ends the host (waited for) and removes its socket's and scratch directories. */
  stop(): Promise<void>;
}

/**
 * Starts a host and resolves once it listens. With `runs` (the store of the docs tests' runs), a command the test
 * marks as shareable is taken from there when another host made it already.
 */
export async function startHost(runs?: string): Promise<StartedHost> {
  const dir = mkdtempSync(join(tmpdir(), 'grantvm-host-'));
  const scratch = mkdtempSync(SCRATCH_PREFIX);
  const socket = join(dir, 'socket');
  const child = spawn(process.execPath, [boot, socket], {
    cwd: root,
    env: { ...plainEnv(), ...(runs === undefined ? {} : { GRANTVM_HOST_RUNS: runs }) },
    // Not the terminal the tests may run in: a command's output is piped, as in the docs' shell lines.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (alive()) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  };
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
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
  } catch (err) {
    await stop();
    throw err;
  }
  return { socket, scratch, alive, stop };
}

/** What the pool answers a slot: where its host listens and its scratch directory, or why it could not start. */
interface Answer {
  socket?: string;
  scratch?: string;
  error?: string;
}

/** A running pool: its socket; `restart` ends every host (a slot that asks next gets a new one); `close` ends all. */
export interface HostPool {
  /** The Unix socket the test files ask at (hostOfSlot). */
  socket: string;
  /** Ends every host, waited for: the next file of a slot gets a host that loads the sources as they are now. */
  restart(): Promise<void>;
  /** Ends every host and the pool. */
  close(): Promise<void>;
}

/**
 * Runs the pool: a server at a new Unix socket that starts (once, or again after it ended) the host of each slot
 * that asks, with `start` (given the store `runs`).
 */
export async function startHostPool(
  runs: string,
  start: (runs: string) => Promise<StartedHost> = startHost,
): Promise<HostPool> {
  const dir = mkdtempSync(join(tmpdir(), 'grantvm-pool-'));
  const socket = join(dir, 'socket');
  const hosts = new Map<string, Promise<StartedHost>>();
  const hostOf = async (slot: string): Promise<StartedHost> => {
    const known = hosts.get(slot);
    const host = known === undefined ? undefined : await known.catch(() => undefined);
    if (host?.alive() === true) return host;
    // Ended: its directories go, and a new host takes its slot.
    await host?.stop();
    const next = start(runs);
    hosts.set(slot, next);
    return next;
  };
  const answer = (conn: Socket, slot: string): void => {
    hostOf(slot).then(
      (h) => conn.end(`${JSON.stringify({ socket: h.socket, scratch: h.scratch } satisfies Answer)}\n`),
      (err: unknown) => conn.end(`${JSON.stringify({ error: String(err) } satisfies Answer)}\n`),
    );
  };
  const server = createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      conn.removeAllListeners('data');
      answer(conn, text.trim());
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const restart = async (): Promise<void> => {
    const started = await Promise.all([...hosts.values()].map((h) => h.catch(() => undefined)));
    hosts.clear();
    await Promise.all(started.map((h) => h?.stop() ?? Promise.resolve()));
  };
  const close = async (): Promise<void> => {
    await new Promise((resolve) => server.close(resolve));
    await restart();
    rmSync(dir, { recursive: true, force: true });
  };
  return { socket, restart, close };
}

/** Asks the pool at `pool` for the host of `slot`: its socket and scratch directory. */
export function hostOfSlot(pool: string, slot: string): Promise<{ socket: string; scratch: string }> {
  return new Promise((resolve, reject) => {
    const conn = connect(pool);
    let text = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => {
      const a = JSON.parse(text) as Answer;
      if (a.socket === undefined || a.scratch === undefined) reject(new Error(a.error ?? 'no answer'));
      else resolve({ socket: a.socket, scratch: a.scratch });
    });
    conn.on('error', reject);
    conn.write(`${slot}\n`);
  });
}
