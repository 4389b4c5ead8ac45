// Host-driven actors: a process that runs the actions the host queues, one per notification, so a host
// program (an experiment, a test, a benchmark) can drive it one step at a time and look at the system between
// steps. Either a system service started through RS (any privileges, any restart policy; by default the
// reference grant-test privileges, waiting for notifications from KERNEL), which maps a page-aligned buffer at
// every start; or a user program spawned through init (optionally with a larger data image), optionally promoted
// by the host to a system process with every kernel and VM call, notified from SYSTEM. An action can be queued
// without running the system (start), run to idle (do), or run one kernel entry at a time with checks after
// each (stepwise). A service may be restarted by RS: its endpoint, process and buffer are those of the current
// instance. VFS, a boot process, is driven the same way through System.asVfs (drivenVfs). Entry points:
// drivenActor, drivenVfs, runStepwise.
// DIVERGES: the host reaches into the actor's message loop with a kernel notification; nothing in MINIX does.
import { ANY, KERNEL, SYSTEM, VFS_PROC_NR } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import type { PrivSpec } from '../include/priv.ts';
import { kernelNotify } from '../kernel/ipc.ts';
import { makeSystemPriv } from '../kernel/priv.ts';
import type { KProc } from '../kernel/proc.ts';
import { cpfSetAllocator, extentGrantAllocator } from '../libsys/grant.ts';
import type { Program, Proc } from '../libsys/proc.ts';
import { bootTable } from './boot.ts';
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
    const q = queued(label, fn, () => buf);
    queue.push(q.run);
    const target = live();
    if (target === null) throw new Error(`${label} is not live`);
    kernelNotify(sys.kernel, notifier, target);
    return q.pending;
  };
  return withRuns(sys, {
    label,
    ep: epOf,
    buf: () => buf,
    kp: () => {
      live();
      return kp;
    },
    alive: () => live() !== null,
    start,
    afterRun: o.afterRun,
  });
}

/** fn as an action to queue (given the buffer `buf()` when it runs), and the handle to poll it by. */
function queued<T>(
  label: string,
  fn: Action<T>,
  buf: () => number,
): { run: (p: Proc) => Promise<void>; pending: Pending<T> } {
  let out: { v: T } | null = null;
  let err: unknown = null;
  let finished = false;
  const run = async (p: Proc): Promise<void> => {
    try {
      out = { v: await fn(p, buf()) };
    } catch (e) {
      err = e;
    }
    finished = true;
  };
  const pending: Pending<T> = {
    done: () => finished,
    result: (): T => {
      if (err !== null) throw err instanceof Error ? err : new Error('action failed', { cause: err });
      if (out === null) throw new Error(`${label}: action did not complete`);
      return out.v;
    },
  };
  return { run, pending };
}

/** A driven process from its parts, with `do` and `stepwise` made of `start`. */
function withRuns(
  sys: System,
  x: {
    label: string;
    ep: () => number;
    buf: () => number;
    kp: () => KProc;
    alive: () => boolean;
    start: <T>(fn: Action<T>) => Pending<T>;
    afterRun?: (() => void) | undefined;
  },
): Driven {
  const { start } = x;
  return {
    label: x.label,
    get ep() {
      return x.ep();
    },
    get buf() {
      return x.buf();
    },
    get kp() {
      return x.kp();
    },
    alive: x.alive,
    start,
    async do<T>(fn: Action<T>): Promise<T> {
      const h = start(fn);
      await sys.run();
      x.afterRun?.();
      return h.result();
    },
    async stepwise<T>(fn: Action<T>, check: () => void): Promise<T> {
      const h = start(fn);
      await runStepwise(sys, check);
      return h.result();
    },
  };
}

/**
 * VFS (the boot stand-in at slot 1) as a driven process: the host's actions run in it through System.asVfs, so
 * they may make magic grants the kernel honours. It has no buffer (`buf` is -1); its grant table lies in its boot
 * image's data pages (it has no page table to mmap into), set up by its first action. VFS never dies.
 */
export function drivenVfs(sys: System): Driven {
  const kp = sys.kernel.procAt(VFS_PROC_NR);
  const image = bootTable().find((e) => e.slot === VFS_PROC_NR);
  if (kp.extent === null || image === undefined) throw new Error('VFS has no boot image');
  const data = { base: kp.extent.base + image.textPages * PAGE, bytes: image.dataPages * PAGE };
  let ready = false;
  const start = <T>(fn: Action<T>): Pending<T> => {
    if (sys.kernel.liveProc(VFS_PROC_NR) === null) throw new Error('vfs is not live');
    const q = queued('vfs', fn, () => -1);
    sys.asVfs(async (p) => {
      if (!ready) cpfSetAllocator(p, extentGrantAllocator(data.base, data.bytes));
      ready = true;
      await q.run(p);
    });
    return q.pending;
  };
  return withRuns(sys, {
    label: 'vfs',
    ep: () => VFS_PROC_NR,
    buf: () => -1,
    kp: () => kp,
    alive: () => sys.kernel.liveProc(VFS_PROC_NR) !== null,
    start,
  });
}
