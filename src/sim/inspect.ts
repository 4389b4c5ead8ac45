// Inspection in the spirit of MINIX's IS server: a plain, serialisable snapshot of the process table,
// privileges and memory. Entry points: snapshot, Snapshot, ProcInfo.
import { kernelCallNames, KERNEL_CALL } from '../include/com.ts';
import { rtsString } from '../kernel/proc.ts';
import type { KProc } from '../kernel/proc.ts';
import type { System } from './system.ts';

export interface ProcInfo {
  slot: number;
  endpoint: number;
  generation: number;
  name: string;
  state: string;
  priority: number;
  system: boolean;
  ipcTo: string;
  kernelCalls: string[];
  pageDirectory: number | null;
  grantTable: { addr: number; entries: number } | null;
  pendingNotifications: number[];
  vmHolds: number;
}

/** Who holds physical memory: per process, pages referenced privately, COW-shared, safemap-shared, device. */
export interface FrameUse {
  slot: number;
  endpoint: number;
  name: string;
  privatePages: number;
  cowSharedPages: number;
  smapPages: number;
  directPages: number;
}

export interface Snapshot {
  step: number;
  now: number;
  processes: ProcInfo[];
  vm: ReturnType<System['vm']['snapshot']>;
  frames: FrameUse[];
}

const VR_DIRECT = 0x200;

function frameUse(sys: System): FrameUse[] {
  const out: FrameUse[] = [];
  for (const v of sys.vm.processes()) {
    const u: FrameUse = { slot: v.slot, endpoint: v.endpoint, name: sys.kernel.procAt(v.slot).name, privatePages: 0, cowSharedPages: 0, smapPages: 0, directPages: 0 };
    for (const r of v.regions) {
      for (const b of r.refs) {
        const pages = b.length / 4096;
        if ((r.flags & VR_DIRECT) !== 0) u.directPages += pages;
        else if (b.mode === 'smap') u.smapPages += pages;
        else if (b.refcount > 1) u.cowSharedPages += pages;
        else u.privatePages += pages;
      }
    }
    out.push(u);
  }
  return out;
}

function procInfo(p: KProc): ProcInfo {
  const spec = p.priv.spec;
  const calls: string[] = [];
  p.priv.kcallMask.forEach((bit, n) => {
    if (bit === 1) calls.push(kernelCallNames[KERNEL_CALL + n] ?? `#${n}`);
  });
  return {
    slot: p.slot,
    endpoint: p.endpoint,
    generation: p.generation,
    name: p.name,
    state: rtsString(p.rts),
    priority: p.priority,
    system: p.priv.system,
    ipcTo: typeof spec.ipcTo === 'string' ? spec.ipcTo : spec.ipcTo.join(','),
    kernelCalls: calls,
    pageDirectory: p.dirFrame >= 0 ? p.dirFrame : null,
    grantTable: p.priv.grantTable === null ? null : { addr: p.priv.grantTable.addr, entries: p.priv.grantTable.entries },
    pendingNotifications: [...p.notifyFrom],
    vmHolds: p.vmHolds,
  };
}

export function snapshot(sys: System): Snapshot {
  const k = sys.kernel;
  return {
    step: k.step,
    now: k.now,
    processes: k.procs.filter((p) => p.inUse).map(procInfo),
    vm: sys.vm.snapshot(),
    frames: frameUse(sys),
  };
}
