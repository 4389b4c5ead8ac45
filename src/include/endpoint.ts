// Endpoints (include/minix/endpoint.h): endpoint = generation * ENDPOINT_GENERATION_SIZE + slot, so a dead
// process's endpoint never reaches the slot's next occupant. Entry points: makeEndpoint, endpointSlot,
// endpointGeneration, nextGeneration, the magic values and the fixed slots of the boot image.
import type { Brand } from './types.ts';

/** A process's name for IPC: generation × 36558 + slot, so a dead process's endpoint never reaches the slot's next occupant. */
export type Endpoint = Brand<number, 'Endpoint'>;
export const endpoint = (n: number): Endpoint => n as Endpoint;

export const MAX_NR_TASKS = 1023;
/** Wildcard: receive from anyone; as a grant's grantee, anyone may use the grant. */
export const ANY = endpoint(0x7ace);
/** No process (e.g. the parent of a boot process, the owner of an unresolvable DS label). */
export const NONE = endpoint(0x6ace);
/** The calling process itself, where a call takes an endpoint (IPC, VM calls); also cpf lookup's `from` for a direct grant. */
export const SELF = endpoint(0x8ace);
/** MAX_NR_TASKS + SELF + 1 = 36558: the distance between two generations of one slot. */
export const ENDPOINT_GENERATION_SIZE = MAX_NR_TASKS + 0x8ace + 1;
/** Largest generation before wrapping back to 1: INT_MAX / 36558 - 1 = 58740. */
export const MAX_GENERATION = Math.floor(0x7fffffff / ENDPOINT_GENERATION_SIZE) - 1;

export const makeEndpoint = (generation: number, slot: number): Endpoint =>
  endpoint(generation * ENDPOINT_GENERATION_SIZE + slot);
/** The process-table slot of endpoint `e` (negative for kernel tasks). */
export const endpointSlot = (e: number): number =>
  (((e + MAX_NR_TASKS) % ENDPOINT_GENERATION_SIZE) + ENDPOINT_GENERATION_SIZE) % ENDPOINT_GENERATION_SIZE -
  MAX_NR_TASKS;
/** The generation of endpoint `e` (boot processes: 0; each new occupant of a slot gets the next one). */
export const endpointGeneration = (e: number): number => Math.floor((e + MAX_NR_TASKS) / ENDPOINT_GENERATION_SIZE);
/** The generation a slot's next occupant gets: one more than the last, wrapping to 1. */
export const nextGeneration = (g: number): number => (g + 1 > MAX_GENERATION ? 1 : g + 1);

/** Kernel tasks, in negative slots. */
export const IDLE = endpoint(-4);
export const CLOCK = endpoint(-3);
/** The kernel's system task: the source of kernel-call replies and of the kernel's notifications to VM. */
export const SYSTEM = endpoint(-2);
/** The kernel (also HARDWARE): the source of page-fault notifications to VM and of the host's notifications. */
export const KERNEL = endpoint(-1);
export const HARDWARE = KERNEL;
export const NR_TASKS = 4;

/** Boot processes at MINIX's fixed slots (generation 0, so endpoint = slot). */
export const PM_PROC_NR = endpoint(0);
export const VFS_PROC_NR = endpoint(1);
export const FS_PROC_NR = VFS_PROC_NR;
/** The Reincarnation Server, which starts, restarts and stops services. */
export const RS_PROC_NR = endpoint(2);
/** The memory driver: /dev/mem, /dev/kmem, /dev/null, /dev/zero and RAM disks (docs/reference/memory-driver.md). */
export const MEM_PROC_NR = endpoint(3);
export const LOG_PROC_NR = endpoint(4);
export const TTY_PROC_NR = endpoint(5);
/** The Data Store server (ds.md). */
export const DS_PROC_NR = endpoint(6);
export const MFS_PROC_NR = endpoint(7);
/** The VM server (vm.md). */
export const VM_PROC_NR = endpoint(8);
export const PFS_PROC_NR = endpoint(9);
/** init: forks the programs the host spawns (System.spawn). */
export const INIT_PROC_NR = endpoint(10);
