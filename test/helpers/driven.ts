// Host-driven system services for whole-system tests: a service started through RS (any privileges, any restart
// policy) that maps a page-aligned buffer at every start and then runs the actions the host queues, one per
// notification from KERNEL. Unlike helpers/services.ts, an action can be queued without running the system
// (start), run to idle (do), or run one kernel entry at a time with checks after each (stepwise), and the
// service may be restarted by RS (its endpoint and buffer are those of the current instance).
import { KERNEL } from '../../src/include/endpoint.ts';
import { OK } from '../../src/include/errno.ts';
import type { PrivSpec } from '../../src/include/priv.ts';
import { kernelNotify } from '../../src/kernel/ipc.ts';
import type { KProc } from '../../src/kernel/proc.ts';
import type { Proc } from '../../src/libsys/proc.ts';
import type { System } from '../../src/sim/system.ts';
import { GRANT_TEST_PRIV, mapBuffer } from '../../src/user/safetest.ts';

export interface Pending<T> {
  done(): boolean;
  /** The action's value; throws its error, or if it has not completed. */
  result(): T;
}

export interface Driven {
  readonly label: string;
  /** Endpoint of the current instance (RS's record). */
  readonly ep: number;
  /** The current instance's buffer (mapped at its start). */
  readonly buf: number;
  readonly kp: KProc;
  alive(): boolean;
  /** Queues fn and notifies the service; the system is not run. */
  start<T>(fn: (p: Proc) => Promise<T>): Pending<T>;
  /** Runs fn in the service and the system until idle. */
  do<T>(fn: (p: Proc) => Promise<T>): Promise<T>;
  /** Runs fn with the system advanced one kernel entry at a time, `check` after every entry, until idle. */
  stepwise<T>(fn: (p: Proc) => Promise<T>, check: () => void): Promise<T>;
}

/** Runs the system one kernel entry at a time until idle, calling check after each; the number of entries. */
export async function runStepwise(sys: System, check: () => void, limit = 100_000): Promise<number> {
  for (let n = 1; n <= limit; n++) {
    const r = await sys.run({ maxSteps: 1 });
    check();
    if (r.reason === 'idle') return n;
  }
  throw new Error(`runStepwise: not idle after ${limit} steps`);
}

export async function drivenService(
  sys: System,
  label: string,
  o: { pages?: number; priv?: PrivSpec; maxRestarts?: number } = {},
): Promise<Driven> {
  const queue: ((p: Proc) => Promise<void>)[] = [];
  let buf = -1;
  let result = 0;
  sys.startService(
    {
      label,
      priv: o.priv ?? GRANT_TEST_PRIV,
      restart: { maxRestarts: o.maxRestarts ?? 0 },
      program: async (p) => {
        buf = await mapBuffer(p, o.pages ?? 8);
        for (;;) {
          await p.receive(KERNEL);
          const a = queue.shift();
          if (a !== undefined) await a(p);
        }
      },
    },
    (r) => {
      result = r;
    },
  );
  await sys.run();
  const rp = sys.rs.services.get(label);
  if (result !== OK || rp === undefined || buf < 0) throw new Error(`${label} did not start (${result})`);
  const kpOf = (): KProc => {
    const kp = sys.kernel.liveProc(sys.rs.services.get(label)?.endpoint ?? -1);
    if (kp === null) throw new Error(`${label} is not live`);
    return kp;
  };
  const start = <T>(fn: (p: Proc) => Promise<T>): Pending<T> => {
    let out: { v: T } | null = null;
    let err: unknown = null;
    let finished = false;
    queue.push(async (p) => {
      try {
        out = { v: await fn(p) };
      } catch (e) {
        err = e;
      }
      finished = true;
    });
    kernelNotify(sys.kernel, KERNEL, kpOf());
    return {
      done: () => finished,
      result: (): T => {
        if (err !== null) throw err instanceof Error ? err : new Error('action failed', { cause: err });
        if (out === null) throw new Error(`${label}: action did not complete`);
        return out.v;
      },
    };
  };
  return {
    label,
    get ep() {
      return sys.rs.services.get(label)?.endpoint ?? -1;
    },
    get buf() {
      return buf;
    },
    get kp() {
      return kpOf();
    },
    alive: () => {
      const rp2 = sys.rs.services.get(label);
      return rp2 !== undefined && sys.kernel.liveProc(rp2.endpoint) !== null;
    },
    start,
    async do<T>(fn: (p: Proc) => Promise<T>): Promise<T> {
      const h = start(fn);
      await sys.run();
      return h.result();
    },
    async stepwise<T>(fn: (p: Proc) => Promise<T>, check: () => void): Promise<T> {
      const h = start(fn);
      await runStepwise(sys, check);
      return h.result();
    },
  };
}
