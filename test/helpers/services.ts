// System services for whole-system grant tests: each started through RS (RS_UP with the reference test
// services' privileges, GRANT_TEST_PRIV) running a loop that waits for the host's go-ahead (a notification from
// KERNEL) and runs the next queued action. The host drives them one action at a time.
import { KERNEL } from '../../src/include/endpoint.ts';
import { kernelNotify } from '../../src/kernel/ipc.ts';
import type { KProc } from '../../src/kernel/proc.ts';
import type { Proc } from '../../src/libsys/proc.ts';
import { startTestService } from '../../src/sim/grantsuites.ts';
import type { System } from '../../src/sim/system.ts';
import { mapBuffer } from '../../src/user/safetest.ts';

export const PAGE = 4096;

export interface Service {
  readonly label: string;
  readonly ep: number;
  /** Address of the service's own page-aligned buffer (mmapped at start). */
  readonly buf: number;
  readonly kp: KProc;
  /** Runs `fn` in the service and returns its value once the system is idle. Throws if it did not finish. */
  do<T>(fn: (p: Proc) => Promise<T>): Promise<T>;
  alive(): boolean;
}

/** Starts `label` through RS with a buffer of `pages` pages; resolves once it waits for actions. */
export async function service(sys: System, label: string, pages = 8): Promise<Service> {
  const queue: ((p: Proc) => Promise<void>)[] = [];
  let buf = -1;
  const ep = await startTestService(sys, label, async (p) => {
    buf = await mapBuffer(p, pages);
    for (;;) {
      await p.receive(KERNEL);
      const a = queue.shift();
      if (a !== undefined) await a(p);
    }
  });
  if (ep < 0 || buf < 0) throw new Error(`${label} did not start (${ep})`);
  const kp = sys.kernel.liveProc(ep);
  if (kp === null) throw new Error(`${label} is not live`);
  return {
    label,
    ep,
    buf,
    kp,
    alive: () => kp.inUse && kp.endpoint === ep,
    async do<T>(fn: (p: Proc) => Promise<T>): Promise<T> {
      let out: { v: T } | null = null;
      let err: unknown = null;
      queue.push(async (p) => {
        try {
          out = { v: await fn(p) };
        } catch (e) {
          err = e;
        }
      });
      kernelNotify(sys.kernel, KERNEL, kp);
      await sys.run();
      if (err !== null) throw err instanceof Error ? err : new Error('action failed', { cause: err });
      if (out === null) throw new Error(`${label}: action did not complete`);
      return (out as { v: T }).v;
    },
  };
}
