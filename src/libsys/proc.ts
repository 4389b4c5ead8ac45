// What a process's code calls: its libc and libsys in one object (lib/libc ipc stubs, lib/syslib). IPC,
// kernel calls, its own memory through the MMU, the clock. Services, grants, DS and VM wrappers hang off it.
// Entry points: Proc, Program, toProgram.
// DIVERGES: a process is `(p: Proc) => Promise<number | void>`; returning from it is exit(status).
import { ANY, CLOCK, PM_PROC_NR } from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import type { Message, Payload } from '../include/ipc.ts';
import { numField } from '../include/ipc.ts';
import { PM_BRK, PM_EXEC, PM_EXIT, PM_FORK, PM_GETPID, PM_KILL, PM_WAIT, SYS_SETALARM } from '../include/com.ts';
import { OK } from '../include/errno.ts';
import type { ExecImage } from '../include/vm.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { KProc, ProgramFn } from '../kernel/proc.ts';
import { ipcNotify, ipcReceive, ipcSend, ipcSenda, ipcSendnb, ipcSendrec } from '../kernel/ipc.ts';
import { userAccess } from '../kernel/memory.ts';
import { kernelCall, kernelCallResult } from '../kernel/system.ts';
import { cpfApi, sysGrantApi } from './grant.ts';
import type { CpfApi, SysGrantApi } from './grant.ts';

/** A program: the code a process runs. Its return value is its exit status. */
export type Program = (p: Proc) => Promise<number | void>;

/** Turns a program into the kernel's entry function: a fresh Proc, and exit(status) when it returns. */
export function toProgram(kernel: Kernel, main: Program): ProgramFn<KProc> {
  return async (kp: KProc) => {
    const p = new Proc(kernel, kp);
    const status = await main(p);
    return p.exit(typeof status === 'number' ? status : 0);
  };
}

/** What wait() reports about a child that ended. */
export interface WaitResult {
  /** The child's endpoint, or a negative errno (ECHILD: no children; EAGAIN: none has ended yet, with nohang). */
  endpoint: number;
  /** The child's exit status; 0 when it was killed or on error. */
  code: number;
  /** The signal that killed the child, or 0 when it exited (or on error). */
  signal: number;
}

/**
 * A process as its own code sees it: what a {@link Program} gets. IPC, kernel calls, its own memory, POSIX
 * process calls (fork, exec, exit, wait, kill), the grant library `cpf` and the grant kernel calls `sys`.
 */
export class Proc {
  private readonly scratch4 = new Uint8Array(4);
  private readonly scratchView = new DataView(this.scratch4.buffer);
  /** p.cpf and p.sys, bound on first use and kept: a field read per call, no lookup. */
  private cpfBinding: CpfApi | null = null;
  private sysBinding: SysGrantApi | null = null;

  constructor(
    /** The simulated kernel (for tests and tools; programs use the methods). */
    readonly kernel: Kernel,
    /** The kernel's record of this process. */
    readonly kp: KProc,
  ) {}

  /** This process's endpoint (its slot and generation). */
  get endpoint(): Endpoint {
    return this.kp.endpoint;
  }

  /** Its program name. */
  get name(): string {
    return this.kp.name;
  }

  /** The grant library (cpf_*), e.g. `p.cpf.grantDirect(to, addr, len, CPF_READ)`. */
  get cpf(): CpfApi {
    return this.cpfBinding ?? (this.cpfBinding = cpfApi(this));
  }

  /** The grant kernel calls (sys_safecopy*, sys_setgrant, sys_safemap*), e.g. `p.sys.safecopyFrom(...)`. */
  get sys(): SysGrantApi {
    return this.sysBinding ?? (this.sysBinding = sysGrantApi(this));
  }

  /** Per-process library state (grant library, DS client), reset by exec and absent in a forked child. */
  state<T>(key: string, create: () => T): T {
    const m = this.kp.userState;
    if (!m.has(key)) m.set(key, create());
    return m.get(key) as T;
  }

  // ------------------------------------------------------------------ IPC

  /** Send `m` to `dst` and wait until it is delivered; OK or an errno (EDEADSRCDST, ECALLDENIED, ...). */
  send(dst: number, m: Payload): Promise<number> {
    return ipcSend(this.kernel, this.kp, dst, m);
  }

  /**
   * sendnb: deliver only if the receiver waits right now, else ENOTREADY. Never blocks or switches, so it
   * returns the result directly; servers reply with it.
   */
  sendnb(dst: number, m: Payload): number {
    return ipcSendnb(this.kernel, this.kp, dst, m);
  }

  /** Wait for a message from `src` (default ANY); `source` and `type` say who sent what. */
  receive(src: number = ANY): Promise<Message> {
    return ipcReceive(this.kernel, this.kp, src);
  }

  /** Send a request and wait for the reply. An IPC failure comes back as a message with `ipcError`. */
  sendrec(dst: number, m: Payload): Promise<Message> {
    return ipcSendrec(this.kernel, this.kp, dst, m);
  }

  /** Send a notification (never blocks; repeated ones coalesce). */
  notify(dst: number): Promise<number> {
    return ipcNotify(this.kernel, this.kp, dst);
  }

  /** Asynchronous send: queued, never blocks. */
  senda(dst: number, m: Payload): Promise<number> {
    return ipcSenda(this.kernel, this.kp, dst, m);
  }

  /** A kernel call (trap to SYSTEM); the reply's `type` is the result. */
  kernelCall(m: Payload): Promise<Message> {
    return kernelCall(this.kernel, this.kp, m);
  }

  /** A kernel call whose reply carries nothing but the result: the result itself (OK or an errno). */
  kernelCallResult(m: Payload): Promise<number> {
    return kernelCallResult(this.kernel, this.kp, m);
  }

  /** Sleeps `ms` simulated milliseconds: an alarm, then a wait for CLOCK's notification. */
  async sleep(ms: number): Promise<void> {
    this.kernel.setAlarm(this.kp, ms);
    await this.receive(CLOCK);
  }

  /** sys_setalarm for system processes that want a CLOCK notification in their message loop. */
  async setAlarm(ms: number): Promise<number> {
    return (await this.kernelCall({ type: SYS_SETALARM, ms })).type;
  }

  // ------------------------------------------------------------------ memory

  /** Reads `length` bytes of this process's memory at `vaddr`. */
  async read(vaddr: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    await userAccess(this.kernel, this.kp, vaddr, buf, 0, length, false);
    return buf;
  }

  /** Reads this process's memory at `vaddr` into `buf[offset, offset+length)`. */
  readInto(vaddr: number, buf: Uint8Array, offset = 0, length = buf.length - offset): Promise<void> {
    return userAccess(this.kernel, this.kp, vaddr, buf, offset, length, false);
  }

  /** Writes `bytes[offset, offset+length)` to this process's memory at `vaddr` (faults in pages as needed). */
  write(vaddr: number, bytes: Uint8Array, offset = 0, length = bytes.length - offset): Promise<void> {
    return userAccess(this.kernel, this.kp, vaddr, bytes, offset, length, true);
  }

  /** The little-endian 32-bit word at `vaddr`. */
  async readU32(vaddr: number): Promise<number> {
    await userAccess(this.kernel, this.kp, vaddr, this.scratch4, 0, 4, false);
    return this.scratchView.getUint32(0, true);
  }

  /** Writes a little-endian 32-bit word at `vaddr`. */
  async writeU32(vaddr: number, value: number): Promise<void> {
    this.scratchView.setUint32(0, value >>> 0, true);
    await userAccess(this.kernel, this.kp, vaddr, this.scratch4, 0, 4, true);
  }

  /** The byte at `vaddr`. */
  async readU8(vaddr: number): Promise<number> {
    await userAccess(this.kernel, this.kp, vaddr, this.scratch4, 0, 1, false);
    return this.scratch4[0] ?? 0;
  }

  /** Writes one byte at `vaddr`. */
  async writeU8(vaddr: number, value: number): Promise<void> {
    this.scratch4[0] = value;
    await userAccess(this.kernel, this.kp, vaddr, this.scratch4, 0, 1, true);
  }

  /** Writes a NUL-terminated string; returns the bytes written including the NUL. */
  async writeString(vaddr: number, s: string): Promise<number> {
    const bytes = new TextEncoder().encode(`${s}\0`);
    await this.write(vaddr, bytes);
    return bytes.length;
  }

  /** Reads a NUL-terminated string of at most `max` bytes. */
  async readString(vaddr: number, max: number): Promise<string> {
    const bytes = await this.read(vaddr, max);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  }

  // ------------------------------------------------------------------ process

  /** Ends this process with `status` (through PM; a bare kernel ends it itself). Never returns. */
  async exit(status = 0): Promise<never> {
    if (this.kernel.hasPm) await this.sendrec(PM_PROC_NR, { type: PM_EXIT, status });
    return this.kernel.exitSelf(this.kp, { code: status, signal: 0 });
  }

  /**
   * fork: a new process whose address space is a copy-on-write copy of this one, running `childMain`.
   * Returns the child's endpoint (which serves as its pid) or a negative errno.
   * DIVERGES: a JS continuation cannot be duplicated, so the child runs the function it is given.
   */
  async fork(childMain: Program, name = this.name): Promise<number> {
    const r = await this.sendrec(PM_PROC_NR, { type: PM_FORK, program: toProgram(this.kernel, childMain), name });
    return r.type === OK ? numField(r, 'child') : r.type;
  }

  /** exec: replace this process's image; on success `main` runs in the new image and this never returns. */
  async exec(image: ExecImage, main: Program): Promise<number> {
    const r = await this.sendrec(PM_PROC_NR, { type: PM_EXEC, image, program: toProgram(this.kernel, main) });
    return r.type;
  }

  /** wait: the next child to end (blocks until one does); endpoint ECHILD when there are no children. */
  async wait(options: { nohang?: boolean } = {}): Promise<WaitResult> {
    const r = await this.sendrec(PM_PROC_NR, { type: PM_WAIT, nohang: options.nohang === true });
    if (r.type !== OK) return { endpoint: r.type, code: 0, signal: 0 };
    return { endpoint: numField(r, 'child'), code: numField(r, 'code'), signal: numField(r, 'signal') };
  }

  /** kill: send signal `sig` to process `endpoint` through PM. */
  async kill(endpoint: number, sig: number): Promise<number> {
    return (await this.sendrec(PM_PROC_NR, { type: PM_KILL, endpoint, sig })).type;
  }

  /** getpid: this process's endpoint (grantvm uses endpoints as pids) and its parent's. */
  async getpid(): Promise<{
    /** This process's endpoint. */
    pid: number;
    /** The parent's endpoint (NONE for a boot process). */
    parent: number;
  }> {
    const r = await this.sendrec(PM_PROC_NR, { type: PM_GETPID });
    return { pid: numField(r, 'pid'), parent: numField(r, 'parent') };
  }

  /** brk: move the end of the heap to `addr`; OK or a negative errno. */
  async brk(addr: number): Promise<number> {
    return (await this.sendrec(PM_PROC_NR, { type: PM_BRK, addr })).type;
  }
}
