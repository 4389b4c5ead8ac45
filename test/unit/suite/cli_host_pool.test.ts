// The pool of test hosts (test/helpers/cli-host-pool.ts), with stand-in hosts instead of grantvm processes: a slot
// gets the same host each time it asks while that host runs, another slot another host, a slot whose host ended a
// new one; a host that would not start is an error for the file that asked, and the next ask tries again; a
// restart and the pool's end stop every host.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostOfSlot, startHostPool } from '../../helpers/cli-host-pool.ts';
import type { StartedHost } from '../../helpers/cli-host-pool.ts';

/** Stand-in hosts, numbered in the order they start; `failNext` makes the next start fail. */
function standIns(): {
  hosts: { n: number; running: boolean; runs: string }[];
  failNext: boolean;
  start: (runs: string) => Promise<StartedHost>;
} {
  const made = {
    hosts: [] as { n: number; running: boolean; runs: string }[],
    failNext: false,
    start: (runs: string): Promise<StartedHost> => {
      if (made.failNext) {
        made.failNext = false;
        return Promise.reject(new Error('the stand-in would not start'));
      }
      const h = { n: made.hosts.length, running: true, runs };
      made.hosts.push(h);
      return Promise.resolve({
        socket: `socket-${String(h.n)}`,
        scratch: `scratch-${String(h.n)}`,
        alive: () => h.running,
        stop: () => {
          h.running = false;
          return Promise.resolve();
        },
      });
    },
  };
  return made;
}

describe('the pool of test hosts', () => {
  const runs = mkdtempSync(join(tmpdir(), 'grantvm-pool-test-'));
  afterAll(() => {
    rmSync(runs, { recursive: true, force: true });
  });

  it('one host per slot while it runs, another after it ended or failed to start; restart and end stop all', async () => {
    const made = standIns();
    const pool = await startHostPool(runs, made.start);
    expect(made.hosts).toEqual([]); // started only when a slot asks
    const first = await hostOfSlot(pool.socket, '1');
    expect(first).toEqual({ socket: 'socket-0', scratch: 'scratch-0' });
    expect(await hostOfSlot(pool.socket, '1')).toEqual(first);
    expect((await hostOfSlot(pool.socket, '2')).socket).toBe('socket-1');
    expect(made.hosts.map((h) => h.runs)).toEqual([runs, runs]);
    const end = (n: number): void => {
      const h = made.hosts[n];
      if (h !== undefined) h.running = false;
    };
    // The host of slot 1 ended (a command ended its process): the next ask gets a new one.
    end(0);
    expect((await hostOfSlot(pool.socket, '1')).socket).toBe('socket-2');
    // That one ends too, and the next start fails: an error for the file that asked; the next ask starts one.
    end(2);
    made.failNext = true;
    await expect(hostOfSlot(pool.socket, '1')).rejects.toThrow(/the stand-in would not start/);
    expect((await hostOfSlot(pool.socket, '1')).socket).toBe('socket-3');
    await pool.restart();
    expect(made.hosts.map((h) => h.running)).toEqual([false, false, false, false]);
    expect((await hostOfSlot(pool.socket, '2')).socket).toBe('socket-4');
    await pool.close();
    expect(made.hosts.map((h) => h.running)).toEqual([false, false, false, false, false]);
    await expect(hostOfSlot(pool.socket, '1')).rejects.toThrow();
  });
});
