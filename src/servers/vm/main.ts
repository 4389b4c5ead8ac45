// Models VM's main loop (servers/vm/main.c): receive, dispatch VM calls through a table checked by the compiler and
// by each caller's VM call mask, handle page faults (HARDWARE) and memory requests (SYSTEM), reply.
// Entry points: createVm, VmState, VmConfig (glo.ts).
// DIVERGES: every call is answered (none is suspended); dead endpoints give errors instead of panics; the check
// of the configured sanity level runs after every request.
import { K } from '../../hw/profile.ts';
import {
  NOTIFY_MESSAGE,
  NR_VM_CALLS,
  SYS_KILL,
  SYS_VMCTL,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_GET_PAGEFAULT,
  VM_BRK,
  VM_CTL,
  VM_EXEC_NEWMEM,
  VM_EXIT,
  VM_FORK,
  VM_GETPHYS,
  VM_GETREF,
  VM_MAP_PHYS,
  VM_MMAP,
  VM_MUNMAP,
  VM_MUNMAP_TEXT,
  VM_NOTIFY_SIG,
  VM_QUERY_EXIT,
  VM_REMAP,
  VM_RQ_BASE,
  VM_RS_SET_PRIV,
  VM_SHM_UNMAP,
  VM_UNMAP_PHYS,
  VM_WILLEXIT,
} from '../../include/com.ts';
import { EINVAL, ENOMEM, ENOSYS, OK, SIGSEGV } from '../../include/errno.ts';
import { HARDWARE, NONE, SYSTEM, endpointSlot } from '../../include/endpoint.ts';
import type { Message } from '../../include/ipc.ts';
import type { TraceSink } from '../../include/trace.ts';
import { VCTL_MEMSTATS } from '../../include/vm.ts';
import type { VmBootInfo } from '../../include/vm.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import type { Program, Proc } from '../../libsys/proc.ts';
import { bootKernelCalls, bootVm, callMaskOf, refillSpares } from './boot.ts';
import { doBrk } from './break.ts';
import { doExecNewmem } from './exec.ts';
import { doExit, doWillExit } from './exit.ts';
import { doFork } from './fork.ts';
import type { Vm, VmConfig, VmProc, VmReply } from './glo.ts';
import { VMF_HASPT, VMF_INUSE, defaultVmConfig, touch, vmTrace, vmpOf } from './glo.ts';
import { handleMemreqs } from './memreq.ts';
import { doMapPhys, doMmap, doMunmap, doUnmapPhys } from './mmap.ts';
import { pageFault } from './region.ts';
import { fullCheck, sanityAt } from './sanity.ts';
import { doGetphys, doGetref, doRemap, doShmUnmap } from './shm.ts';
import { flushDirty } from './utility.ts';
import { VmState } from './state.ts';

export { defaultVmConfig };
export type { VmConfig };

type Handler = (vm: Vm, p: Proc, m: Message, caller: VmProc) => VmReply | Promise<VmReply>;

/** The modelled VM calls by name. PUSH_SIG, UMAP, the DMA calls and VFS_REPLY_* are absent: ENOSYS. */
const vmCallNumbers = {
  VM_EXIT,
  VM_FORK,
  VM_BRK,
  VM_EXEC_NEWMEM,
  VM_WILLEXIT,
  VM_MMAP,
  VM_MAP_PHYS,
  VM_UNMAP_PHYS,
  VM_MUNMAP,
  VM_MUNMAP_TEXT,
  VM_REMAP,
  VM_SHM_UNMAP,
  VM_GETPHYS,
  VM_GETREF,
  VM_RS_SET_PRIV,
  VM_QUERY_EXIT,
  VM_NOTIFY_SIG,
  VM_CTL,
} as const;
type VmCallName = keyof typeof vmCallNumbers;

/** The dispatch table: the compiler checks that every modelled call has its handler. */
const vmCalls = {
  VM_EXIT: (vm, _p, m) => doExit(vm, m),
  VM_FORK: (vm, p, m) => doFork(vm, p, m),
  VM_BRK: (vm, _p, m) => doBrk(vm, m),
  VM_EXEC_NEWMEM: (vm, _p, m) => doExecNewmem(vm, m),
  VM_WILLEXIT: (vm, _p, m) => doWillExit(vm, m),
  VM_MMAP: (vm, _p, m, caller) => doMmap(vm, m, caller),
  VM_MAP_PHYS: doMapPhys,
  VM_UNMAP_PHYS: doUnmapPhys,
  VM_MUNMAP: (vm, _p, m, caller) => doMunmap(vm, m, caller),
  VM_MUNMAP_TEXT: (vm, _p, m, caller) => doMunmap(vm, m, caller),
  VM_REMAP: doRemap,
  VM_SHM_UNMAP: doShmUnmap,
  VM_GETPHYS: (vm, _p, m, caller) => doGetphys(vm, m, caller),
  VM_GETREF: (vm, _p, m, caller) => doGetref(vm, m, caller),
  VM_RS_SET_PRIV: (vm, _p, m) => doRsSetPriv(vm, m),
  VM_QUERY_EXIT: (vm) => doQueryExit(vm),
  VM_NOTIFY_SIG: (vm, p, m) => doNotifySig(vm, p, m),
  VM_CTL: (vm, _p, m) => doVmCtl(vm, m),
} satisfies Record<VmCallName, Handler>;

/** Call number c (m_type − VM_RQ_BASE) → handler. */
const callTable: readonly (Handler | undefined)[] = (() => {
  const t = new Array<Handler | undefined>(NR_VM_CALLS).fill(undefined);
  for (const name of Object.keys(vmCallNumbers) as VmCallName[]) t[vmCallNumbers[name] - VM_RQ_BASE] = vmCalls[name];
  return t;
})();

/** VM_RS_SET_PRIV {slot, mask: 'all' | number[], physRanges?}. */
function doRsSetPriv(vm: Vm, m: Message): VmReply {
  const vmp = typeof m.slot === 'number' ? vm.procs[m.slot] : undefined;
  if (vmp === undefined) return EINVAL;
  const mask = m.mask;
  if (mask !== 'all' && !Array.isArray(mask)) return EINVAL;
  vmp.callMask = callMaskOf(mask as 'all' | number[]);
  if (Array.isArray(m.physRanges)) vmp.physRanges = m.physRanges as { base: number; length: number }[];
  return OK;
}

/** VM_NOTIFY_SIG {endpoint, ipcEndpoint}. */
export async function doNotifySig(vm: Vm, p: Proc, m: Message): Promise<VmReply> {
  const ep = m.endpoint as number;
  const t = vm.notifySig;
  if (!t.includes(ep)) {
    const free = t.indexOf(-1);
    if (free < 0) return ENOMEM;
    t[free] = ep;
  }
  const ipc = m.ipcEndpoint;
  if (typeof ipc === 'number' && ipc !== 0 && ipc !== ep) await p.notify(ipc);
  return OK;
}

/** VM_QUERY_EXIT {} → {endpoint, isMore}: the lowest-indexed entry. */
export function doQueryExit(vm: Vm): VmReply {
  const t = vm.notifySig;
  const i = t.findIndex((e) => e !== -1);
  if (i < 0) return { result: OK, endpoint: NONE, isMore: 0 };
  const ep = t[i];
  t[i] = -1;
  return { result: OK, endpoint: ep, isMore: t.some((e) => e !== -1) ? 1 : 0 };
}

/** VM_CTL {what, param} → memory statistics. */
function doVmCtl(vm: Vm, m: Message): VmReply {
  if (m.what !== VCTL_MEMSTATS) return EINVAL;
  const st = new VmState(vm);
  return { result: OK, freePages: vm.alloc.freeCount, largestRange: vm.alloc.largestRange(), internalPages: st.internalPages(), slab: vm.slab.stats() };
}

/** The caller's vmproc if it may make call number c. */
function mayCall(vm: Vm, source: number, c: number): VmProc | null {
  const vmp = vm.procs[endpointSlot(source)];
  if (vmp === undefined || (vmp.flags & VMF_INUSE) === 0 || vmp.endpoint !== source) return null;
  return vmp.callMask[c] === 1 ? vmp : null;
}

async function dispatch(vm: Vm, p: Proc, m: Message): Promise<VmReply> {
  const c = m.type - VM_RQ_BASE;
  // A number outside the table (negative, too big, not an integer) finds no handler and no call mask entry.
  const h = callTable[c];
  const caller = mayCall(vm, m.source, c);
  if (h === undefined || caller === null) return ENOSYS;
  vm.busy = true;
  // The caller's own regions (a brk, an mmap) may change without a PTE write that would mark it.
  touch(vm, caller);
  vm.mem.clock.charge(K.vmRequest);
  sanityAt(vm, 'functions', `call ${c} entry`);
  const r = await h(vm, p, m, caller);
  sanityAt(vm, 'functions', `call ${c} exit`);
  return r;
}

/** On a notification from HARDWARE: fetch and handle page faults until none is left. */
async function handlePagefaults(vm: Vm, p: Proc): Promise<void> {
  for (;;) {
    const f = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_GET_PAGEFAULT });
    if (f.type !== OK) return;
    const ep = f.endpoint as number;
    const vmp = vmpOf(vm, ep);
    vm.busy = true;
    vm.mem.clock.charge(K.vmRequest);
    vm.mem.clock.charge(K.vmPage);
    sanityAt(vm, 'functions', 'pagefault entry');
    const r = vmp !== null && (vmp.flags & VMF_HASPT) !== 0 ? pageFault(vm, vmp, f.addr as number, f.write === true) : EINVAL;
    sanityAt(vm, 'functions', 'pagefault exit');
    if (vm.trace !== null) vmTrace(vm, 'pagefault', ep, { vaddr: f.addr as number, result: r });
    await flushDirty(vm, p);
    vm.busy = false;
    refillSpares(vm);
    if (r === OK) await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_CLEAR_PAGEFAULT, endpoint: ep });
    else await p.kernelCall({ type: SYS_KILL, endpoint: ep, sig: SIGSEGV });
    sanityAt(vm, 'top', 'page fault');
  }
}

/** The VM server's message loop. */
async function vmMain(vm: Vm, p: Proc): Promise<never> {
  await bootKernelCalls(vm, p);
  sanityAt(vm, 'top', 'boot');
  for (;;) {
    const m = await p.receive();
    if (m.type === NOTIFY_MESSAGE) {
      if (m.source === HARDWARE) await handlePagefaults(vm, p);
      else if (m.source === SYSTEM) await handleMemreqs(vm, p);
      refillSpares(vm);
      continue;
    }
    const r = await dispatch(vm, p, m);
    await flushDirty(vm, p);
    vm.busy = false;
    refillSpares(vm);
    sanityAt(vm, 'top', `VM call ${m.type - VM_RQ_BASE}`);
    const reply = typeof r === 'number' ? { type: r } : { ...r, type: r.result };
    await p.send(m.source, reply);
  }
}

/** Creates the VM server: its program and a read-only view of its state. */
export function createVm(config: Partial<VmConfig>, boot: VmBootInfo, mem: PhysMem, trace: TraceSink | null): { program: Program; state: VmState } {
  const full: VmConfig = { ...defaultVmConfig, ...config };
  const vm = bootVm(full, boot, mem, trace);
  return { program: (p) => vmMain(vm, p), state: new VmState(vm) };
}

export { fullCheck, VmState };
