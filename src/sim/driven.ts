// Host-driven actors: a process that runs the actions the host queues, one per notification, so a host
// program (an experiment, a test, a benchmark) can drive it one step at a time and look at the system between
// steps. Either a system service started through RS (any privileges, any restart policy; by default the
// reference grant-test privileges, waiting for notifications from KERNEL), which maps a page-aligned buffer at
// every start; or a user program spawned through init (optionally with a larger data image), optionally promoted
// by the host to a system process with every kernel and VM call, notified from SYSTEM. An action can be queued
// without running the system (start), run to idle (do), or run one kernel entry at a time with checks after
// each (stepwise). A service may be restarted by RS: its endpoint, process and buffer are those of the current
// instance. Entry points: drivenActor, runStepwise.
// DIVERGES: the host reaches into the actor's message loop with a kernel notification; nothing in MINIX does.
import { ANY, KERNEL, SYSTEM } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import type { PrivSpec } from '../include/priv.ts';
import { kernelNotify } from '../kernel/ipc.ts';
import { makeSystemPriv } from '../kernel/priv.ts';
import type { KProc } from '../kernel/proc.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { startTestService } from './grantsuites.ts';
import type { SpawnOptions, System } from './system.ts';
import { mapBuffer } from '../user/safetest.ts';

/** Bytes per page (the buffer a service maps is this many bytes times `pages`). */
export const PAGE = 4096;

/** An action run in the actor: its process and the current instance's buffer (-1 if it has none). */
export type Action<T> = (p: Proc, buf: number) => Promise<T>;

/** An action queued with {@link Driven.start}: poll it, then take its value. */
export interface Pending<T> {
  /** Whether the action has finished (returned or thrown). */
  done(): boolean;
  /** The action's value; throws its error, or if it has not completed. */
  result(): T;
}

/** A process the host drives one action at a time (made by {@link drivenActor}). */
export interface Driven {
  /** The service label or program name it was made with. */
  readonly label: string;
  /** Endpoint of the current instance (RS's record for a service; -1 once RS has none). */
  readonly ep: number;
  /** The current instance's buffer (mapped at its start; -1 for a spawned process). */
  readonly buf: number;
  /** The current instance's process, or the last one if none is live. */
  readonly kp: KProc;
  /** Whether an instance is live (a service may have died, been restarted, given up or taken down). */
  alive(): boolean;
  /** Queues fn and notifies the actor; the system is not run. Throws if the actor is not live. */
  start<T>(fn: Action<T>): Pending<T>;
  /** Runs fn in the actor and the system until idle; fn's value (throws its error, or if it did not finish). */
  do<T>(fn: Action<T>): Promise<T>;
  /** Runs fn with the system advanced one kernel entry at a time, `check` after every entry, until idle. */
  stepwise<T>(fn: Action<T>, check: () => void): Promise<T>;
}

/** How {@link drivenActor} starts the process: a service through RS (the default) or a spawned user program. */
export interface DrivenOptions {
  /** Start through RS (the default) with these privileges (default GRANT_TEST_PRIV). */
  priv?: PrivSpec;
  /** Start through RS: how many deaths by a signal RS restarts it after (default 0). */
  maxRestarts?: number;
  /** Pages of the buffer a service maps at every start (default 8). */
  pages?: number;
  /** Spawn a user program through init instead, with these image options; `system` promotes it. */
  spawn?: {
    /** The program's image sizes and initial bytes (as {@link SpawnOptions}). */
    image?: SpawnOptions['image'];
    /** Promote it to a system process that may make every kernel and VM call. */
    system?: boolean;
  };
  /** Called after every `do` has run the system to idle, before its result is taken. */
  afterRun?: () => void;
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

/**
 * Starts a driven process named `label` and runs the system until it waits for its first action: a service
 * through RS by default, a user program with `o.spawn`. Throws if it does not start.
 */
export async function drivenActor(sys: System, label: string, o: DrivenOptions = {}): Promise<Driven> {
  const queue: ((p: Proc) => Promise<void>)[] = [];
  let buf = -1;
  const loop =
    (from: Endpoint): Program =>
    async (p) => {
      for (;;) {
        await p.receive(from);
        const a = queue.shift();
        if (a !== undefined) await a(p);
      }
    };
  let last: KProc | null;
  let epOf: () => number;
  let notifier: Endpoint;
  if (o.spawn === undefined) {
    const program = loop(KERNEL);
    const ep = await startTestService(
      sys,
      label,
      async (p) => {
        buf = await mapBuffer(p, o.pages ?? 8);
        await program(p);
      },
      { priv: o.priv, maxRestarts: o.maxRestarts },
    );
    if (ep < 0 || sys.rs.services.get(label) === undefined || buf < 0) throw new Error(`${label} did not start (${ep})`);
    last = sys.kernel.liveProc(ep);
    epOf = () => sys.rs.services.get(label)?.endpoint ?? -1;
    notifier = KERNEL;
  } else {
    const h = sys.spawn(loop(ANY), o.spawn.image === undefined ? { name: label } : { name: label, image: o.spawn.image });
    await sys.run();
    last = sys.kernel.liveProc(h.endpoint ?? -1);
    if (last === null) throw new Error(`${label} did not start`);
    if (o.spawn.system === true) {
      last.priv = makeSystemPriv(sys.kernel.newPrivId(), { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' });
    }
    const ep = last.endpoint;
    epOf = () => ep;
    notifier = SYSTEM;
  }
  if (last === null) throw new Error(`${label} is not live`);
  let kp: KProc = last;
  /** The current instance, or null if none is live. */
  const live = (): KProc | null => {
    const e = epOf();
    const cur = e < 0 ? null : sys.kernel.liveProc(e);
    if (cur !== null) kp = cur;
    return cur;
  };
  const start = <T>(fn: Action<T>): Pending<T> => {
    let out: { v: T } | null = null;
    let err: unknown = null;
    let finished = false;
    queue.push(async (p) => {
      try {
        out = { v: await fn(p, buf) };
      } catch (e) {
        err = e;
      }
      finished = true;
    });
    const target = live();
    if (target === null) throw new Error(`${label} is not live`);
    kernelNotify(sys.kernel, notifier, target);
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
      return epOf();
    },
    get buf() {
      return buf;
    },
    get kp() {
      live();
      return kp;
    },
    alive: () => live() !== null,
    start,
    async do<T>(fn: Action<T>): Promise<T> {
      const h = start(fn);
      await sys.run();
      o.afterRun?.();
      return h.result();
    },
    async stepwise<T>(fn: Action<T>, check: () => void): Promise<T> {
      const h = start(fn);
      await runStepwise(sys, check);
      return h.result();
    },
  };
}
