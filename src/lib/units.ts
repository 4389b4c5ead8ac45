// Page arithmetic and the branded numbers of the model (vir_bytes, phys_bytes, endpoint_t, cp_grant_id_t).
// Entry points: PAGE_SIZE, pageOf, pageBase, roundUpPage, roundDownPage, isPageAligned, pagesFor.
// All page arithmetic lives here so the rest of the code never shifts by 12 by hand.

import type { Brand } from '../include/types.ts';

export type { Brand };

/** A virtual address in a process's 32-bit address space. */
export type Vaddr = Brand<number, 'Vaddr'>;
/** A physical byte address in simulated RAM. */
export type Paddr = Brand<number, 'Paddr'>;
/** A physical page (frame) number: Paddr / PAGE_SIZE. */
export type Frame = Brand<number, 'Frame'>;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = PAGE_SIZE - 1;
/** 2^32: the size of the flat address space. */
export const ADDRESS_SPACE_BYTES = 0x1_0000_0000;

export const vaddr = (n: number): Vaddr => n as Vaddr;
export const paddr = (n: number): Paddr => n as Paddr;
export const frame = (n: number): Frame => n as Frame;

/** The page number that holds byte address `a`. */
export const pageOf = (a: number): number => Math.floor(a / PAGE_SIZE);
/** The first byte of page `p`. */
export const pageBase = (p: number): number => p * PAGE_SIZE;
export const frameToPaddr = (f: Frame): Paddr => (f * PAGE_SIZE) as Paddr;
export const paddrToFrame = (p: Paddr): Frame => Math.floor(p / PAGE_SIZE) as Frame;
export const roundDownPage = (a: number): number => a - (a % PAGE_SIZE);
export const roundUpPage = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
export const isPageAligned = (a: number): boolean => a % PAGE_SIZE === 0;
/** Number of pages needed to hold `bytes` bytes. */
export const pagesFor = (bytes: number): number => Math.ceil(bytes / PAGE_SIZE);
/** Offset of byte address `a` within its page. */
export const pageOffset = (a: number): number => a % PAGE_SIZE;

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * 1024 * 1024;
