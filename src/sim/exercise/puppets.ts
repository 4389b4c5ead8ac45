// Processes the host drives by name, one action at a time: a user program spawned by init and the children it
// forks, each running a loop that waits for a notification from SYSTEM and runs the next action queued for its
// name. Exercises use it to play a script (fork, write, exit, safemap, ...) on the real system. Entry points: Puppets.
import { ANY, SYSTEM } from '../../include/endpoint.ts';
import { kernelNotify } from '../../kernel/ipc.ts';
import { makeSystemPriv } from '../../kernel/priv.ts';
import { RTS } from '../../kernel/proc.ts';
import { assert } from '../../lib/assert.ts';
import type { Program, Proc } from '../../libsys/proc.ts';
import type { System } from '../system.ts';

type Action = (p: Proc) => Promise<void>;

/** A set of named puppet processes on one system. */
export class Puppets {
  private readonly queues = new Map<string, Action[]>();
  /** Endpoint of each puppet by name (the last process of that name). */
  readonly eps = new Map<string, number>();

  /** @param sys The booted system the puppets run on. */
  constructor(readonly sys: System) {}

  private program(name: string): Program {
    return async (p) => {
      for (;;) {
        await p.receive(ANY);
        const a = this.queues.get(name)?.shift();
        if (a !== undefined) await a(p);
      }
    };
  }

  /**
   * Starts a user program named `name` through init and runs the system until idle; `system` promotes it to a
   * system process with every kernel and VM call (grant calls need one), as drivenActor does.
   */
  async spawn(name: string, system = false): Promise<void> {
    const h = this.sys.spawn(this.program(name), { name });
    await this.sys.run();
    const kp = this.sys.kernel.liveProc(h.endpoint ?? -1);
    assert(kp !== null, `puppet ${name} did not start`);
    if (system)
      kp.priv = makeSystemPriv(this.sys.kernel.newPrivId(), {
        ipcTo: 'all',
        kernelCalls: 'all',
        vmCalls: 'all',
      });
    this.eps.set(name, kp.endpoint);
  }

  /** Runs `fn` in puppet `name` and the system until idle; fn's value, or null if it did not finish (an exit). */
  async do<T>(name: string, fn: (p: Proc) => Promise<T>): Promise<T | null> {
    const kp = this.sys.kernel.liveProc(this.eps.get(name) ?? -1);
    assert(kp !== null, `puppet ${name} is not alive`);
    let out: { v: T } | null = null;
    const q = this.queues.get(name) ?? [];
    this.queues.set(name, q);
    q.push(async (p) => {
      out = { v: await fn(p) };
    });
    kernelNotify(this.sys.kernel, SYSTEM, kp);
    await this.sys.run();
    return (out as { v: T } | null)?.v ?? null;
  }

  /**
   * Puppet `parent` forks puppet `child`; the child's endpoint (negative errno if the fork failed). The child of a
   * system process is held (RTS_NO_PRIV) until its parent's sys_privctl lets it run: the host does that here.
   */
  async fork(parent: string, child: string): Promise<number> {
    const ep = (await this.do(parent, (p) => p.fork(this.program(child), child))) ?? -1;
    const kp = this.sys.kernel.liveProc(ep);
    if (kp === null) return ep;
    this.eps.set(child, ep);
    if ((kp.rts & RTS.NO_PRIV) !== 0) {
      this.sys.kernel.clearRts(kp, RTS.NO_PRIV);
      await this.sys.run();
    }
    return ep;
  }

  /** Whether puppet `name` is alive. */
  alive(name: string): boolean {
    return this.sys.kernel.liveProc(this.eps.get(name) ?? -1) !== null;
  }
}
