// VM constants and message shapes (include/minix/vm.h, servers/vm/vm.h, sys/mman.h) shared by VM, PM,
// libsys and the boot code. Entry points: the constants, VmBootInfo, ExecImage, the request interfaces.
import type { Endpoint } from './endpoint.ts';

/** Lowest user virtual address (bytes): where text starts after exec; mmap never goes below it. */
export const VM_PROCSTART = 0x19000000;
/** Top of the stack after exec (bytes); mmap without an address hint places regions from here up. */
export const VM_STACKTOP = 0x80000000;
export const VM_DATATOP = 0xfffff000;
export const MINSTACKREGION = 64 * 1024 * 1024;
export const NO_MEM = 0;
export const MAP_NONE = 0xfffffffe;
/**
 * The PC's memory hole (bytes): video memory from 640 KiB, then adapter ROMs and the BIOS up to 1 MiB. These
 * frames exist in the machine (they read and write like RAM) but never enter VM's free pool.
 */
export const MEM_HOLE_BASE = 0xa0000;
/** First byte above the memory hole (1 MiB). */
export const MEM_HOLE_END = 0x100000;
/** Video memory: the first 128 KiB of the hole (0xA0000–0xBFFFF); colour text mode starts at 0xB8000. */
export const VIDEO_MEM_BASE = 0xa0000;
/** Bytes of video memory. */
export const VIDEO_MEM_BYTES = 0x20000;
/** PDE index of the first user page table (VM_PROCSTART / 4 MiB). */
export const USER_PDE_FIRST = 100;

/** Region flags. */
export const VR_WRITABLE = 0x001;
export const VR_NOPF = 0x002;
export const VR_PHYS64K = 0x004;
export const VR_LOWER16MB = 0x008;
export const VR_LOWER1MB = 0x010;
export const VR_SHARED = 0x040;
export const VR_ANON = 0x100;
export const VR_DIRECT = 0x200;
export const VRT_NONE = 0xbeef0000;
export const VRT_HEAP = 0xbeef0001;

/** Physical allocation flags (alloc.c). */
export const PAF_CLEAR = 0x01;
export const PAF_CONTIG = 0x02;
export const PAF_ALIGN64K = 0x04;
export const PAF_LOWER16MB = 0x08;
export const PAF_LOWER1MB = 0x10;

/** mmap flags (sys/mman.h) and the fd value for anonymous memory. */
export const MAP_SHARED = 0x01;
/** Accepted and ignored: anonymous memory is private unless MAP_SHARED. */
export const MAP_PRIVATE = 0x02;
/** Anonymous (zero-filled) memory; the only kind mmap supports (fd must be -1). */
export const MAP_ANON = 0x04;
/** Allocate all pages now, as one contiguous zeroed block, instead of on first touch. */
export const MAP_PREALLOC = 0x08;
/** Physically contiguous; in the model MAP_PREALLOC already gives that, so it has no further effect. */
export const MAP_CONTIG = 0x10;
/** The region's pages come from physical memory below 16 MiB (ISA DMA), whenever they are allocated. */
export const MAP_LOWER16M = 0x20;
/** The region's blocks start at a 64 KiB-aligned physical address (a DMA constraint), whenever they are allocated. */
export const MAP_ALIGN64K = 0x40;
/** The region's pages come from physical memory below 1 MiB (real-mode buffers), whenever they are allocated. */
export const MAP_LOWER1M = 0x80;
/** Map exactly at the (page-aligned) address given, or fail with ENOMEM if it overlaps a region; a grantvm extension. */
export const MAP_FIXED = 0x100;
/** mmap protection: readable (accepted; mmap'd regions are always read-write). */
export const PROT_READ = 0x1;
/** mmap protection: writable (accepted; mmap'd regions are always read-write). */
export const PROT_WRITE = 0x2;
/** mmap's failure value in POSIX; {@link vmMmap} returns a negative errno instead. */
export const MAP_FAILED = -1;

/** VM_EXEC_NEWMEM reply flag: the loader must copy the text. */
export const EXC_NM_RF_LOAD_TEXT = 0x01;

/** VM_CTL selectors. */
export const VCTL_MEMSTATS = 1;

/**
 * An executable image for exec: sizes in bytes, the initial text and data bytes, and the entry function
 * (model-only) that runs once the new address space is in place.
 */
export interface ExecImage {
  /** The process name after exec. */
  name: string;
  /** Text size in bytes: a region at VM_PROCSTART, allocated at exec (writable: the model has no read-only text). */
  text: number;
  /** Initialised data size in bytes (the heap region holds data + bss). */
  data: number;
  /** Zeroed data size in bytes. */
  bss: number;
  /** Total size of data + bss + gap + stack (raised to MINSTACKREGION by VM). */
  tot: number;
  /** Bytes of arguments placed at the top of the stack. */
  args: number;
  /** Initial contents of the text, copied to its start by the loader (the rest is zero). */
  textBytes?: Uint8Array;
  /** Initial contents of the data, copied to the start of the heap region by the loader (the rest is zero). */
  dataBytes?: Uint8Array;
}

/** One boot process as VM sees it at boot: where its image lies in physical memory. */
export interface BootProcImage {
  slot: number;
  endpoint: Endpoint;
  name: string;
  fullVm: boolean;
  /** First physical byte of the image (page-aligned); text, then data, then stack pages. */
  base: number;
  textPages: number;
  dataPages: number;
  stackPages: number;
  /** Boot processes' VM call masks (system processes: 'all'). */
  vmCalls: 'all' | readonly number[];
}

/** What the boot code hands VM: the machine, the kernel image and the boot processes. */
export interface VmBootInfo {
  ramBytes: number;
  kernelBase: number;
  kernelBytes: number;
  procs: readonly BootProcImage[];
  nrProcs: number;
}
