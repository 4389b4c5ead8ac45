// Models VM's boot (servers/vm/main.c vm_init, i386/pagetable.c pt_init): the free list from the boot memory map
// (the 640 KiB–1 MiB hole never enters it), the page-directory-pointer page and spares, and the address spaces
// of the full-VM boot processes, which adopt their boot images in place. Entry points: bootVm (host side, synchronous), bootKernelCalls (in VM's process).
// DIVERGES: the boot images' stack pages are freed and the stack becomes demand-zero (spec/vm.md §9).
import { K } from '../../hw/profile.ts';
import { SYS_VMCTL, VMCTL_I386_PAGEDIRS, VMCTL_I386_SETCR3, VMCTL_VMINHIBIT_CLEAR, NR_VM_CALLS } from '../../include/com.ts';
import { OK } from '../../include/errno.ts';
import type { TraceSink } from '../../include/trace.ts';
import type { BootProcImage, VmBootInfo } from '../../include/vm.ts';
import { MAP_NONE, MEM_HOLE_BASE, MEM_HOLE_END, VM_PROCSTART, VM_STACKTOP, VR_ANON, VR_WRITABLE, VRT_HEAP, VRT_NONE } from '../../include/vm.ts';
import { assert, panic } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import type { Proc } from '../../libsys/proc.ts';
import { PhysAlloc } from './alloc.ts';
import type { Vm, VmConfig, VmProc } from './glo.ts';
import { VMF_HASPT, VMF_INUSE, injectFail } from './glo.ts';
import { emptyPageTable, ptBindEntry, ptNew, vmAllocPage } from './pagetable.ts';
import { newBlock, newRegion } from './region.ts';
import { Slab } from './slab.ts';

const BIG_PAGE_BYTES = 4 * 1024 * 1024;

export function emptyVmProc(slot: number): VmProc {
  return {
    slot,
    name: '',
    flags: 0,
    endpoint: 0,
    pt: emptyPageTable(),
    stacktop: VM_STACKTOP,
    regions: [],
    heap: null,
    callMask: new Uint8Array(NR_VM_CALLS),
    physRanges: [],
  };
}

/** A VM call mask from a list of call numbers (0..NR_VM_CALLS-1) or 'all'. */
export function callMaskOf(spec: 'all' | readonly number[]): Uint8Array {
  const mask = new Uint8Array(NR_VM_CALLS);
  if (spec === 'all') mask.fill(1);
  // A typed array ignores a number that is not one of its indices (negative, too big, not an integer).
  else for (const c of spec) mask[c] = 1;
  return mask;
}

const imagePages = (b: BootProcImage): number => b.textPages + b.dataPages + b.stackPages;

/** Builds VM's state for the boot memory map. */
export function bootVm(config: VmConfig, boot: VmBootInfo, mem: PhysMem, trace: TraceSink | null): Vm {
  const nPages = Math.min(mem.nFrames, Math.floor(boot.ramBytes / PAGE_SIZE));
  assert(boot.nrProcs === config.nrProcs && config.nrProcs <= 1024, () => `VM boot: nrProcs ${boot.nrProcs} / ${config.nrProcs}`);
  const sane = config.sanity !== 'off';
  const inject = { count: 0, failAt: 0 };
  const injector = { inject };
  const shouldFail = (): boolean => injectFail(injector);
  const alloc = new PhysAlloc(nPages, mem, { sanity: sane, shouldFail });
  const vmRef: { vm: Vm | null } = { vm: null };
  const slab = new Slab({
    sanity: sane,
    objectBytes: config.slabObjectBytes,
    getPage: () => (vmRef.vm === null ? alloc.allocPages(1, 0, false) : vmAllocPage(vmRef.vm)),
    shouldFail: () => {
      mem.clock.charge(K.slabAlloc);
      return shouldFail();
    },
  });
  const reserved = reservedRanges(boot, nPages);
  addFreeRanges(alloc, reserved, boot, nPages);
  alloc.chargeBootNodes({ reserve: () => slab.nodeForFreeList(), release: () => { slab.freeNode(); }, adoptPage: (f) => { slab.adoptNodePage(f); } });
  const vm: Vm = {
    config,
    mem,
    nPages,
    alloc,
    slab,
    procs: Array.from({ length: config.nrProcs }, (_, i) => emptyVmProc(i)),
    exectmp: emptyVmProc(-1),
    slotDirs: new Int32Array(config.nrProcs),
    pagedirs: 0,
    spares: [],
    reserved,
    dirty: new Set(),
    touched: null,
    inject,
    counts: { cowBreaks: 0, cowPagesCopied: 0 },
    notifySig: new Array<number>(config.nrProcs).fill(-1),
    busy: false,
    trace,
    view: null,
  };
  vmRef.vm = vm;
  vm.pagedirs = alloc.allocPages(1, 0, false);
  if (vm.pagedirs === 0) panic('VM boot: no page for the page-directory pointer page');
  mem.zero(vm.pagedirs * PAGE_SIZE, PAGE_SIZE);
  refillSpares(vm);
  for (const b of boot.procs) bootProc(vm, b);
  return vm;
}

/**
 * Page 0, the kernel image, the non-full-VM boot images and the memory hole (640 KiB–1 MiB: video memory, ROMs,
 * BIOS) stay reserved for good.
 */
function reservedRanges(boot: VmBootInfo, nPages: number): { page: number; pages: number }[] {
  // Every page the kernel image touches, from the one holding its first byte to the one holding its last.
  const kernelFirst = Math.floor(boot.kernelBase / PAGE_SIZE);
  const kernelEnd = Math.ceil((boot.kernelBase + boot.kernelBytes) / PAGE_SIZE);
  const out = [{ page: 0, pages: 1 }];
  if (boot.kernelBytes > 0) out.push({ page: kernelFirst, pages: kernelEnd - kernelFirst });
  assert(boot.kernelBase + boot.kernelBytes <= MEM_HOLE_BASE, 'VM boot: the kernel must end below the memory hole at 640 KiB');
  for (const b of boot.procs) {
    if (b.fullVm || imagePages(b) === 0) continue;
    assert(b.base % PAGE_SIZE === 0 && b.base + imagePages(b) * PAGE_SIZE <= BIG_PAGE_BYTES, () => `VM boot: image of ${b.name} must lie page-aligned below 4 MiB`);
    out.push({ page: b.base / PAGE_SIZE, pages: imagePages(b) });
  }
  const holeFirst = MEM_HOLE_BASE / PAGE_SIZE;
  const holeEnd = Math.min(MEM_HOLE_END / PAGE_SIZE, nPages);
  if (holeEnd > holeFirst) out.push({ page: holeFirst, pages: holeEnd - holeFirst });
  for (const r of out) assert(r.page + r.pages <= nPages, () => `VM boot: reserved pages ${r.page}+${r.pages} outside RAM`);
  return out;
}

/** Everything but the reserved ranges and the full-VM boot images (adopted in place later) is free. */
function addFreeRanges(alloc: PhysAlloc, reserved: readonly { page: number; pages: number }[], boot: VmBootInfo, nPages: number): void {
  const taken: [number, number][] = reserved.map((r) => [r.page, r.page + r.pages]);
  for (const b of boot.procs) if (b.fullVm && imagePages(b) > 0) taken.push([b.base / PAGE_SIZE, b.base / PAGE_SIZE + imagePages(b)]);
  taken.sort((a, b) => a[0] - b[0]);
  let cur = 0;
  for (const [a, e] of taken) {
    assert(a >= cur, () => `VM boot: boot images overlap each other, the kernel or the memory hole at page ${a}`);
    alloc.addBootRange(cur, a - cur);
    cur = Math.max(cur, e);
  }
  alloc.addBootRange(cur, nPages - cur);
}

/** Tops the spares up to config.sparePages from the pool (never counted by fault injection). */
export function refillSpares(vm: Vm): void {
  while (vm.spares.length < vm.config.sparePages) {
    const f = vm.alloc.allocPages(1, 0, false);
    if (f === 0) return;
    vm.spares.push(f);
  }
}

/** One boot process: its slot, and for a full-VM one the regions adopting its image (step 3). */
function bootProc(vm: Vm, b: BootProcImage): void {
  const vmp = vm.procs[b.slot];
  assert(vmp !== undefined && (vmp.flags & VMF_INUSE) === 0, () => `VM boot: bad or duplicate slot ${b.slot}`);
  vmp.flags = VMF_INUSE;
  vmp.name = b.name;
  vmp.endpoint = b.endpoint;
  vmp.callMask = callMaskOf(b.vmCalls);
  if (!b.fullVm) return;
  vmp.flags |= VMF_HASPT;
  if (ptNew(vm, vmp) !== OK) panic(`VM boot: no memory for the page table of ${b.name}`);
  const flags = VR_ANON | VR_WRITABLE;
  const t = b.textPages * PAGE_SIZE;
  if (t > 0) adopt(vm, vmp, VM_PROCSTART, t, b.base, VRT_NONE);
  const heap = adopt(vm, vmp, VM_PROCSTART + t, Math.max(1, b.dataPages) * PAGE_SIZE, b.dataPages > 0 ? b.base + t : MAP_NONE, VRT_HEAP);
  vmp.heap = heap;
  const s = Math.max(1, b.stackPages) * PAGE_SIZE;
  if (newRegion(vm, vmp, VM_STACKTOP - s, s, flags, VRT_NONE) === null) panic(`VM boot: no memory for the stack of ${b.name}`);
  if (b.stackPages > 0) vm.alloc.freePages(b.base / PAGE_SIZE + b.textPages + b.dataPages, b.stackPages);
  ptBindEntry(vm, vmp);
}

function adopt(vm: Vm, vmp: VmProc, vaddr: number, len: number, phys: number, tag: number) {
  const r = newRegion(vm, vmp, vaddr, len, VR_ANON | VR_WRITABLE, tag);
  if (r === null || newBlock(vm, r, 0, len, phys) !== OK) panic(`VM boot: no memory for region 0x${vaddr.toString(16)}`);
  return r;
}

/** In VM's process: give the kernel the pointer page, bind each full-VM boot process and let it run. */
export async function bootKernelCalls(vm: Vm, p: Proc): Promise<void> {
  const r = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_I386_PAGEDIRS, frame: vm.pagedirs });
  if (r.type !== OK) panic(`VM boot: VMCTL_I386_PAGEDIRS failed (${r.type})`);
  for (const vmp of vm.procs) {
    if ((vmp.flags & VMF_HASPT) === 0) continue;
    const b = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_I386_SETCR3, endpoint: vmp.endpoint, frame: vmp.pt.dir });
    if (b.type !== OK) panic(`VM boot: SETCR3 for ${vmp.endpoint} failed (${b.type})`);
    vm.dirty.delete(vmp);
    await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_VMINHIBIT_CLEAR, endpoint: vmp.endpoint });
  }
}
