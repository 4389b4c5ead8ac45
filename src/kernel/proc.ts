// Models the kernel's process table entry (kernel/proc.h): state flags, IPC state, memory context and the
// continuation of the process's TypeScript function. Entry points: KProc, RTS, isRunnable.
// DIVERGES: a process is an async function; `waiter` resolves the promise it blocks on (DESIGN.md §2).
import type { Endpoint } from '../include/endpoint.ts';
import type { Message } from '../include/ipc.ts';
import type { Tlb } from '../hw/mmu.ts';
import type { Priv } from './priv.ts';

/** Runtime flags (p_rts_flags): a process runs only when none is set and no VM hold is on it. */
export const RTS = {
  SLOT_FREE: 0x01,
  PROC_STOP: 0x02,
  SENDING: 0x04,
  RECEIVING: 0x08,
  SIGNALED: 0x10,
  NO_PRIV: 0x80,
  VMINHIBIT: 0x200,
  PAGEFAULT: 0x400,
  VMREQUEST: 0x800,
} as const;

export const rtsNames: readonly [number, string][] = Object.entries(RTS).map(([k, v]) => [v, k]);

/** The model's process program: runs in the process, returns its exit status. */
export type ProgramFn<P = unknown> = (p: P) => Promise<number | void>;

/** A page fault waiting for VM (kernel's pagefault list entry). */
export interface PendingFault {
  vaddr: number;
  write: boolean;
  present: boolean;
}

/** Memory of a process without a page table: identity-mapped inside its boot extent. */
export interface Extent {
  base: number;
  length: number;
}

export class KProc {
  endpoint: Endpoint;
  generation = 0;
  name = '';
  rts: number = RTS.SLOT_FREE;
  /** VMREQTARGET hold count: requests naming this process that VM has not answered. */
  vmHolds = 0;
  priv: Priv;
  priority = 7;
  /** In a scheduler ready queue (kept by the Scheduler), linked through prevReady/nextReady. */
  queued = false;
  prevReady: KProc | null = null;
  nextReady: KProc | null = null;
  quantumLeft = 0;
  /** The machine's cycle counter at this process's latest kernel entry: where its kernel call or IPC began. */
  entryCycle = 0;
  /** Page directory frame once VM bound one (pt_bind); -1 when the process has no page table. */
  dirFrame = -1;
  extent: Extent | null = null;
  tlb: Tlb;

  // IPC state
  sendTo: Endpoint | null = null;
  sendMsg: Message | null = null;
  recvFrom: Endpoint | null = null;
  /** sendrec in progress: only the reply from this endpoint may complete the receive (MF_REPLY_PEND). */
  replyFrom: Endpoint | null = null;
  callers: KProc[] = [];
  notifyFrom: Endpoint[] = [];
  asyncQueue: Message[] = [];

  // continuation
  waiter: ((value: unknown) => void) | null = null;
  wakeValue: unknown = undefined;
  /** A host stop interrupted this process mid-quantum: resume it without a fresh quantum. */
  keepQuantum = false;
  program: ProgramFn<KProc> | null = null;
  /** Incremented by exec and exit: a continuation of an older incarnation must never run on. */
  incarnation = 0;

  fault: PendingFault | null = null;
  pendingSignals = 0;
  exitStatus: number | null = null;
  parent: Endpoint | null = null;
  /** Opaque per-process state of user-space libraries (grant library, DS client); reset by fork and exec. */
  userState = new Map<string, unknown>();

  constructor(
    readonly slot: number,
    endpointValue: Endpoint,
    priv: Priv,
    tlb: Tlb,
  ) {
    this.endpoint = endpointValue;
    this.priv = priv;
    this.tlb = tlb;
  }

  get inUse(): boolean {
    return (this.rts & RTS.SLOT_FREE) === 0;
  }
}

export function isRunnable(p: KProc): boolean {
  return p.rts === 0 && p.vmHolds === 0;
}

export function rtsString(rts: number): string {
  const parts = rtsNames.filter(([bit]) => (rts & bit) !== 0).map(([, n]) => n);
  return parts.length > 0 ? parts.join('|') : 'RUNNABLE';
}
