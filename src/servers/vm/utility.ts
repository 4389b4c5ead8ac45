// Models VM's helpers around kernel calls (servers/vm/utility.c): TLB flushes owed after PTE changes, and holding
// a third process with VMINHIBIT while its tables change. Entry points: flushDirty, withInhibit.
import { SYS_VMCTL, VMCTL_FLUSHTLB, VMCTL_VMINHIBIT_CLEAR, VMCTL_VMINHIBIT_SET } from '../../include/com.ts';
import { OK } from '../../include/errno.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc } from './glo.ts';
import { VMF_INUSE } from './glo.ts';

/** VMCTL_FLUSHTLB for every process whose PTEs VM changed (before any of them runs again). */
export async function flushDirty(vm: Vm, p: Proc): Promise<void> {
  if (vm.dirty.size === 0) return;
  const list = [...vm.dirty];
  vm.dirty.clear();
  for (const vmp of list) {
    if ((vmp.flags & VMF_INUSE) === 0 || vmp.endpoint < 0 || vmp.pt.dir === 0) continue;
    await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_FLUSHTLB, endpoint: vmp.endpoint });
  }
}

/**
 * Runs fn while `target` is held with VMINHIBIT (when it is not the caller, who is already blocked on VM), then
 * flushes TLBs and releases it.
 */
export async function withInhibit<R>(vm: Vm, p: Proc, caller: VmProc, target: VmProc, fn: () => R): Promise<R> {
  if (target === caller) return fn();
  const held = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_VMINHIBIT_SET, endpoint: target.endpoint });
  const r = fn();
  await flushDirty(vm, p);
  if (held.type === OK) await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_VMINHIBIT_CLEAR, endpoint: target.endpoint });
  return r;
}
