// Models the boot image (kernel/table.c image[], spec/vm.md §9): the boot processes at MINIX's fixed slots,
// their privileges and priorities, and where their images lie in physical memory.
// Entry points: bootTable, layoutBootImage, BootEntry.
import { makeEndpoint } from '../include/endpoint.ts';
import type { BootProcImage, VmBootInfo } from '../include/vm.ts';
import { MEM_HOLE_BASE, MEM_HOLE_END } from '../include/vm.ts';
import { DEFAULT_SERVICE_SPEC, USER_PRIV_SPEC } from '../include/priv.ts';
import type { PrivSpec } from '../include/priv.ts';
import { assert } from '../lib/assert.ts';
import { MiB, PAGE_SIZE, roundUpPage } from '../lib/units.ts';

export type BootRole = 'pm' | 'vm' | 'rs' | 'ds' | 'memory' | 'init' | 'standin';

export interface BootEntry {
  slot: number;
  name: string;
  role: BootRole;
  fullVm: boolean;
  /** Image size in pages; VM has no image. */
  textPages: number;
  dataPages: number;
  stackPages: number;
  priority: number;
  /** null: the shared user priv (init). */
  priv: PrivSpec | null;
}

const ALL: PrivSpec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' };
const img = { textPages: 4, dataPages: 4, stackPages: 2 };

/** The default boot table. */
export function bootTable(): BootEntry[] {
  return [
    { slot: 0, name: 'pm', role: 'pm', fullVm: false, ...img, priority: 3, priv: ALL },
    { slot: 1, name: 'vfs', role: 'standin', fullVm: false, ...img, priority: 4, priv: ALL },
    { slot: 2, name: 'rs', role: 'rs', fullVm: true, ...img, priority: 3, priv: ALL },
    { slot: 3, name: 'memory', role: 'memory', fullVm: true, ...img, priority: 4, priv: { ...DEFAULT_SERVICE_SPEC, physRanges: [] } },
    { slot: 4, name: 'log', role: 'standin', fullVm: false, ...img, priority: 4, priv: DEFAULT_SERVICE_SPEC },
    { slot: 5, name: 'tty', role: 'standin', fullVm: true, ...img, priority: 4, priv: { ...DEFAULT_SERVICE_SPEC, physRanges: [] } },
    { slot: 6, name: 'ds', role: 'ds', fullVm: true, ...img, priority: 3, priv: DEFAULT_SERVICE_SPEC },
    { slot: 7, name: 'mfs', role: 'standin', fullVm: true, ...img, priority: 4, priv: DEFAULT_SERVICE_SPEC },
    { slot: 8, name: 'vm', role: 'vm', fullVm: false, textPages: 0, dataPages: 0, stackPages: 0, priority: 2, priv: ALL },
    { slot: 9, name: 'pfs', role: 'standin', fullVm: true, ...img, priority: 4, priv: DEFAULT_SERVICE_SPEC },
    { slot: 10, name: 'init', role: 'init', fullVm: true, ...img, priority: 7, priv: null },
  ];
}

/** The VM call mask of a boot process: system processes may make every call, init only the user ones. */
const vmCallsOf = (e: BootEntry): 'all' | readonly number[] => (e.priv ?? USER_PRIV_SPEC).vmCalls;

/**
 * Places the kernel at 0x1000 and the boot images after it, page-aligned in table order; an image that would
 * reach into the memory hole (640 KiB–1 MiB) goes above it. Images of processes without a page table live in the
 * kernel's identity mapping and must end below 4 MiB.
 */
export function layoutBootImage(table: readonly BootEntry[], ramBytes: number, kernelBytes: number, nrProcs: number): VmBootInfo {
  const kernelBase = 0x1000;
  let next = roundUpPage(kernelBase + kernelBytes);
  const procs: BootProcImage[] = [];
  for (const e of table) {
    const pages = e.textPages + e.dataPages + e.stackPages;
    if (pages > 0 && next < MEM_HOLE_END && next + pages * PAGE_SIZE > MEM_HOLE_BASE) next = MEM_HOLE_END;
    procs.push({
      slot: e.slot,
      endpoint: makeEndpoint(0, e.slot),
      name: e.name,
      fullVm: e.fullVm,
      base: next,
      textPages: e.textPages,
      dataPages: e.dataPages,
      stackPages: e.stackPages,
      vmCalls: vmCallsOf(e),
    });
    if (!e.fullVm) assert(next + pages * PAGE_SIZE <= 4 * MiB, () => `boot: image of ${e.name} does not end below 4 MiB`);
    next += pages * PAGE_SIZE;
  }
  assert(next <= ramBytes, 'boot: the boot image does not fit in RAM');
  return { ramBytes, kernelBase, kernelBytes, procs, nrProcs };
}
