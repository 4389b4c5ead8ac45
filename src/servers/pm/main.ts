// Models a small PM (servers/pm): fork, exec, exit, wait, kill, getpid and brk for user programs and
// services, driving VM for memory and the kernel for process slots; kernel signals end processes.
// Entry points: createPm (program + read-only process view).
// DIVERGES: pids are endpoints; no process groups, uids or signal handlers: fatal signals end the process,
// others are ignored. A parent is notified (as by SIGCHLD) when a child becomes a zombie.
import {
  NOTIFY_MESSAGE,
  PM_BRK,
  PM_EXEC,
  PM_EXIT,
  PM_FORK,
  PM_GETPID,
  PM_KILL,
  PM_WAIT,
  SYS_ENDKSIG,
  SYS_EXEC,
  SYS_EXIT,
  SYS_GETKSIG,
  SYS_RUNCTL,
  VM_BRK,
  VM_EXEC_NEWMEM,
  VM_EXIT,
  VM_FORK,
  VM_WILLEXIT,
} from '../../include/com.ts';
import { ANY, INIT_PROC_NR, NONE, SYSTEM, VM_PROC_NR, endpointSlot } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { ECHILD, EDONTREPLY, EINVAL, ENOSYS, EPERM, ESRCH, EAGAIN, OK, SIGABRT, SIGKILL, SIGSEGV, SIGTERM } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import { numField } from '../../include/ipc.ts';
import type { ExecImage } from '../../include/vm.ts';
import type { Program, Proc } from '../../libsys/proc.ts';

const RC_STOP = 0;
const RC_RESUME = 1;
const FATAL = (1 << SIGKILL) | (1 << SIGSEGV) | (1 << SIGTERM) | (1 << SIGABRT);

/** A reply: a result code, or a message with fields; EDONTREPLY means no reply (exit, exec, a waiting wait). */
type PmReply = number | { type: number; [field: string]: unknown };

/** PM's record of one process (mproc). */
export interface MProc {
  endpoint: Endpoint;
  name: string;
  parent: Endpoint;
  state: 'alive' | 'zombie';
  system: boolean;
  code: number;
  signal: number;
  /** Blocked in wait(): PM owes it a reply. */
  waiting: boolean;
}

/** Told about every process that ends (the host's process accounting). */
export type ExitSink = (e: { endpoint: number; name: string; code: number; signal: number }) => void;

export interface PmBootProc {
  endpoint: Endpoint;
  name: string;
  system: boolean;
}

export interface PmState {
  readonly procs: ReadonlyMap<number, Readonly<MProc>>;
}

export function createPm(boot: readonly PmBootProc[], nrProcs: number, onExit: ExitSink | null): { program: Program; state: PmState } {
  const procs = new Map<number, MProc>();
  for (const b of boot) {
    procs.set(b.endpoint, { ...b, parent: NONE, state: 'alive', code: 0, signal: 0, waiting: false });
  }
  return { program: (p) => new PmServer(p, procs, nrProcs, onExit).run(), state: { procs } };
}

class PmServer {
  constructor(
    private readonly p: Proc,
    private readonly procs: Map<number, MProc>,
    private readonly nrProcs: number,
    private readonly onExit: ExitSink | null,
  ) {}

  async run(): Promise<never> {
    const p = this.p;
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type === NOTIFY_MESSAGE) {
        if (m.source === SYSTEM) await this.kernelSignals();
        continue;
      }
      const r = await this.dispatch(m);
      if (r === EDONTREPLY) continue;
      await p.send(m.source, typeof r === 'number' ? { type: r } : r);
    }
  }

  private dispatch(m: Message): Promise<PmReply> | PmReply {
    const caller = this.procs.get(m.source);
    if (caller === undefined || caller.state !== 'alive') return EDONTREPLY;
    switch (m.type) {
      case PM_FORK:
        return this.doFork(caller, m);
      case PM_EXEC:
        return this.doExec(caller, m);
      case PM_EXIT:
        return this.exitProc(caller, numField(m, 'status'), 0).then(() => EDONTREPLY);
      case PM_WAIT:
        return this.doWait(caller, m.nohang === true);
      case PM_KILL:
        return this.doKill(caller, numField(m, 'endpoint'), numField(m, 'sig'));
      case PM_GETPID:
        return { type: OK, pid: caller.endpoint, parent: caller.parent };
      case PM_BRK:
        return this.vm({ type: VM_BRK, endpoint: caller.endpoint, addr: numField(m, 'addr') }).then((r) => r.type);
      default:
        return ENOSYS;
    }
  }

  private vm(m: { type: number; [k: string]: unknown }): Promise<Message> {
    return this.p.sendrec(VM_PROC_NR, m);
  }

  private freeSlot(): number {
    const used = new Set<number>();
    for (const mp of this.procs.values()) used.add(endpointSlot(mp.endpoint));
    for (let s = 0; s < this.nrProcs; s++) if (!used.has(s)) return s;
    return -1;
  }

  private async doFork(parent: MProc, m: Message): Promise<number | { type: number; child: number }> {
    const slot = this.freeSlot();
    if (slot < 0) return EAGAIN;
    const name = typeof m.name === 'string' ? m.name : parent.name;
    const r = await this.vm({ type: VM_FORK, endpoint: parent.endpoint, slot, program: m.program, name });
    if (r.type !== OK) return r.type;
    const child = numField(r, 'child') as Endpoint;
    this.procs.set(child, { endpoint: child, name, parent: parent.endpoint, state: 'alive', system: false, code: 0, signal: 0, waiting: false });
    await this.p.kernelCall({ type: SYS_RUNCTL, endpoint: child, action: RC_RESUME });
    return { type: OK, child };
  }

  private async doExec(caller: MProc, m: Message): Promise<number> {
    const image = m.image as ExecImage | undefined;
    if (image === undefined || typeof m.program !== 'function') return EINVAL;
    const r = await this.vm({ type: VM_EXEC_NEWMEM, endpoint: caller.endpoint, image });
    if (r.type !== OK) return r.type;
    const segments = [];
    if (image.textBytes !== undefined) segments.push({ vaddr: numField(r, 'textStart'), bytes: image.textBytes });
    if (image.dataBytes !== undefined) segments.push({ vaddr: numField(r, 'heapStart'), bytes: image.dataBytes });
    const x = await this.p.kernelCall({ type: SYS_EXEC, endpoint: caller.endpoint, program: m.program, segments, name: image.name });
    if (x.type !== OK) await this.exitProc(caller, 0, SIGKILL);
    else caller.name = image.name;
    return EDONTREPLY;
  }

  private doWait(caller: MProc, nohang: boolean): number | { type: number; child: number; code: number; signal: number } {
    let hasChildren = false;
    for (const c of this.procs.values()) {
      if (c.parent !== caller.endpoint) continue;
      hasChildren = true;
      if (c.state === 'zombie') {
        this.procs.delete(c.endpoint);
        return { type: OK, child: c.endpoint, code: c.code, signal: c.signal };
      }
    }
    if (!hasChildren) return ECHILD;
    if (nohang) return EAGAIN;
    caller.waiting = true;
    return EDONTREPLY;
  }

  private async doKill(caller: MProc, target: number, sig: number): Promise<number> {
    const t = this.procs.get(target);
    if (!Number.isInteger(sig) || sig < 0 || sig > 31) return EINVAL;
    if (t === undefined || t.state !== 'alive') return ESRCH;
    if (t.system && !caller.system) return EPERM;
    if (sig === 0 || (FATAL & (1 << sig)) === 0) return OK;
    await this.exitProc(t, 0, sig);
    return t === caller ? EDONTREPLY : OK;
  }

  /** Kernel signals (SYS_GETKSIG until NONE): fatal ones end the process, others are dropped. */
  private async kernelSignals(): Promise<void> {
    for (;;) {
      const r = await this.p.kernelCall({ type: SYS_GETKSIG });
      const ep = numField(r, 'endpoint');
      if (r.type !== OK || ep === NONE) return;
      const mp = this.procs.get(ep);
      const mask = numField(r, 'sigmask');
      const fatal = [SIGKILL, SIGSEGV, SIGABRT, SIGTERM].find((s) => (mask & (1 << s)) !== 0);
      if (mp !== undefined && mp.state === 'alive' && fatal !== undefined) await this.exitProc(mp, 0, fatal);
      else await this.p.kernelCall({ type: SYS_ENDKSIG, endpoint: ep });
    }
  }

  /** Ends a process: stop it, free its memory (VM), clear its slot (kernel), tell its parent. */
  private async exitProc(mp: MProc, code: number, signal: number): Promise<void> {
    const ep = mp.endpoint;
    await this.p.kernelCall({ type: SYS_RUNCTL, endpoint: ep, action: RC_STOP });
    await this.vm({ type: VM_WILLEXIT, endpoint: ep });
    await this.vm({ type: VM_EXIT, endpoint: ep });
    await this.p.kernelCall({ type: SYS_EXIT, endpoint: ep, code, signal });
    this.onExit?.({ endpoint: ep, name: mp.name, code, signal });
    mp.state = 'zombie';
    mp.code = code;
    mp.signal = signal;
    for (const c of this.procs.values()) {
      if (c.parent !== ep) continue;
      c.parent = INIT_PROC_NR;
      if (c.state === 'zombie') this.procs.delete(c.endpoint);
    }
    await this.tellParent(mp);
  }

  private async tellParent(mp: MProc): Promise<void> {
    const parent = this.procs.get(mp.parent);
    if (parent === undefined || parent.state !== 'alive' || parent.endpoint === INIT_PROC_NR) {
      this.procs.delete(mp.endpoint);
      return;
    }
    if (parent.waiting) {
      parent.waiting = false;
      this.procs.delete(mp.endpoint);
      await this.p.send(parent.endpoint, { type: OK, child: mp.endpoint, code: mp.code, signal: mp.signal });
      return;
    }
    await this.p.notify(parent.endpoint);
  }
}
