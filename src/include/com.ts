// Message types and call numbers (include/minix/com.h, callnr.h): kernel calls, VM calls, PM calls,
// notifications. Entry points: the constants below. Fields of messages are named, not m1_i1.

/** Kernel calls: KERNEL_CALL + n. */
export const KERNEL_CALL = 0x600;
/** Kernel call sys_fork: message type KERNEL_CALL + 0; 0 in PrivSpec.kernelCalls. */
export const SYS_FORK = KERNEL_CALL + 0;
/** Kernel call sys_exec: message type KERNEL_CALL + 1; 1 in PrivSpec.kernelCalls. */
export const SYS_EXEC = KERNEL_CALL + 1;
/** Kernel call sys_exit: message type KERNEL_CALL + 2; 2 in PrivSpec.kernelCalls. */
export const SYS_EXIT = KERNEL_CALL + 2;
/** Kernel call sys_privctl: message type KERNEL_CALL + 4; 4 in PrivSpec.kernelCalls. */
export const SYS_PRIVCTL = KERNEL_CALL + 4;
/** Kernel call sys_kill: message type KERNEL_CALL + 6; 6 in PrivSpec.kernelCalls. */
export const SYS_KILL = KERNEL_CALL + 6;
/** Kernel call sys_getksig: message type KERNEL_CALL + 7; 7 in PrivSpec.kernelCalls. */
export const SYS_GETKSIG = KERNEL_CALL + 7;
/** Kernel call sys_endksig: message type KERNEL_CALL + 8; 8 in PrivSpec.kernelCalls. */
export const SYS_ENDKSIG = KERNEL_CALL + 8;
/** Kernel call sys_umap: message type KERNEL_CALL + 14; 14 in PrivSpec.kernelCalls. */
export const SYS_UMAP = KERNEL_CALL + 14;
/** Kernel call sys_vircopy: message type KERNEL_CALL + 15; 15 in PrivSpec.kernelCalls. */
export const SYS_VIRCOPY = KERNEL_CALL + 15;
/** Kernel call sys_setalarm: message type KERNEL_CALL + 24; 24 in PrivSpec.kernelCalls. */
export const SYS_SETALARM = KERNEL_CALL + 24;
/** Kernel call sys_times: message type KERNEL_CALL + 25; 25 in PrivSpec.kernelCalls. */
export const SYS_TIMES = KERNEL_CALL + 25;
/** Kernel call sys_getinfo: message type KERNEL_CALL + 26; 26 in PrivSpec.kernelCalls. */
export const SYS_GETINFO = KERNEL_CALL + 26;
/** Kernel call sys_safecopyfrom: message type KERNEL_CALL + 31; 31 in PrivSpec.kernelCalls. */
export const SYS_SAFECOPYFROM = KERNEL_CALL + 31;
/** Kernel call sys_safecopyto: message type KERNEL_CALL + 32; 32 in PrivSpec.kernelCalls. */
export const SYS_SAFECOPYTO = KERNEL_CALL + 32;
/** Kernel call sys_vsafecopy: message type KERNEL_CALL + 33; 33 in PrivSpec.kernelCalls. */
export const SYS_VSAFECOPY = KERNEL_CALL + 33;
/** Kernel call sys_setgrant: message type KERNEL_CALL + 34; 34 in PrivSpec.kernelCalls. */
export const SYS_SETGRANT = KERNEL_CALL + 34;
/** Kernel call sys_vmctl: message type KERNEL_CALL + 43; 43 in PrivSpec.kernelCalls. */
export const SYS_VMCTL = KERNEL_CALL + 43;
/** Kernel call sys_sysctl: message type KERNEL_CALL + 44; 44 in PrivSpec.kernelCalls. */
export const SYS_SYSCTL = KERNEL_CALL + 44;
/** Kernel call sys_runctl: message type KERNEL_CALL + 46; 46 in PrivSpec.kernelCalls. */
export const SYS_RUNCTL = KERNEL_CALL + 46;
/** Kernel call sys_safemap: message type KERNEL_CALL + 47; 47 in PrivSpec.kernelCalls. */
export const SYS_SAFEMAP = KERNEL_CALL + 47;
/** Kernel call sys_saferevmap: message type KERNEL_CALL + 48; 48 in PrivSpec.kernelCalls. */
export const SYS_SAFEREVMAP = KERNEL_CALL + 48;
/** Kernel call sys_safeunmap: message type KERNEL_CALL + 49; 49 in PrivSpec.kernelCalls. */
export const SYS_SAFEUNMAP = KERNEL_CALL + 49;
/** Number of kernel call numbers: PrivSpec.kernelCalls entries are 0 .. NR_SYS_CALLS - 1. */
export const NR_SYS_CALLS = 50;

/** Names of the kernel calls by message type (e.g. SYS_SAFECOPYFROM → 'SYS_SAFECOPYFROM'), for traces and inspection. */
export const kernelCallNames: Readonly<Record<number, string>> = {
  [SYS_FORK]: 'SYS_FORK',
  [SYS_EXEC]: 'SYS_EXEC',
  [SYS_EXIT]: 'SYS_EXIT',
  [SYS_PRIVCTL]: 'SYS_PRIVCTL',
  [SYS_KILL]: 'SYS_KILL',
  [SYS_GETKSIG]: 'SYS_GETKSIG',
  [SYS_ENDKSIG]: 'SYS_ENDKSIG',
  [SYS_UMAP]: 'SYS_UMAP',
  [SYS_VIRCOPY]: 'SYS_VIRCOPY',
  [SYS_SETALARM]: 'SYS_SETALARM',
  [SYS_TIMES]: 'SYS_TIMES',
  [SYS_GETINFO]: 'SYS_GETINFO',
  [SYS_SAFECOPYFROM]: 'SYS_SAFECOPYFROM',
  [SYS_SAFECOPYTO]: 'SYS_SAFECOPYTO',
  [SYS_VSAFECOPY]: 'SYS_VSAFECOPY',
  [SYS_SETGRANT]: 'SYS_SETGRANT',
  [SYS_VMCTL]: 'SYS_VMCTL',
  [SYS_SYSCTL]: 'SYS_SYSCTL',
  [SYS_RUNCTL]: 'SYS_RUNCTL',
  [SYS_SAFEMAP]: 'SYS_SAFEMAP',
  [SYS_SAFEREVMAP]: 'SYS_SAFEREVMAP',
  [SYS_SAFEUNMAP]: 'SYS_SAFEUNMAP',
};

/** sys_privctl request: let a held process run (clears its no-privilege hold). */
export const SYS_PRIV_ALLOW = 1;
/** sys_privctl request: hold a process (it cannot run until ALLOW). */
export const SYS_PRIV_DISALLOW = 2;
/** sys_privctl request: give a process a private system privilege (the message's `priv`, a PrivSpec). */
export const SYS_PRIV_SET_SYS = 3;
/** sys_privctl request: give a process the shared user privilege. */
export const SYS_PRIV_SET_USER = 4;

/** sys_getinfo requests. */
export const GET_WHOAMI = 1;
export const GET_PROC = 2;
export const GET_PRIV = 3;
export const GET_MONOTONIC = 4;

/** sys_vmctl requests (VM only). */
export const VMCTL_CLEAR_PAGEFAULT = 12;
export const VMCTL_GET_PAGEFAULT = 13;
export const VMCTL_MEMREQ_GET = 14;
export const VMCTL_MEMREQ_REPLY = 15;
export const VMCTL_INCSP = 16;
export const VMCTL_NOPAGEZERO = 18;
export const VMCTL_I386_SETCR3 = 10;
export const VMCTL_I386_PAGEDIRS = 19;
export const VMCTL_FLUSHTLB = 20;
export const VMCTL_VMINHIBIT_SET = 30;
export const VMCTL_VMINHIBIT_CLEAR = 31;

/** Kernel → VM memory request types (kernel/vm.h). */
export const VMPTYPE_NONE = 0;
export const VMPTYPE_CHECK = 1;
export const VMPTYPE_COWMAP = 2;
export const VMPTYPE_SMAP = 3;
export const VMPTYPE_SUNMAP = 4;

/** A notification arrives as a message of this type; its source is the notifier. */
export const NOTIFY_MESSAGE = 0x1000;

/** VM calls: VM_RQ_BASE + n. */
export const VM_RQ_BASE = 0xc00;
/** VM call VM_EXIT: message type VM_RQ_BASE + 0; 0 in PrivSpec.vmCalls. */
export const VM_EXIT = VM_RQ_BASE + 0;
/** VM call VM_FORK: message type VM_RQ_BASE + 1; 1 in PrivSpec.vmCalls. */
export const VM_FORK = VM_RQ_BASE + 1;
/** VM call VM_BRK: message type VM_RQ_BASE + 2; 2 in PrivSpec.vmCalls. */
export const VM_BRK = VM_RQ_BASE + 2;
/** VM call VM_EXEC_NEWMEM: message type VM_RQ_BASE + 3; 3 in PrivSpec.vmCalls. */
export const VM_EXEC_NEWMEM = VM_RQ_BASE + 3;
/** VM call VM_PUSH_SIG: message type VM_RQ_BASE + 4; 4 in PrivSpec.vmCalls. */
export const VM_PUSH_SIG = VM_RQ_BASE + 4;
/** VM call VM_WILLEXIT: message type VM_RQ_BASE + 5; 5 in PrivSpec.vmCalls. */
export const VM_WILLEXIT = VM_RQ_BASE + 5;
/** VM call VM_MMAP: message type VM_RQ_BASE + 10; 10 in PrivSpec.vmCalls. */
export const VM_MMAP = VM_RQ_BASE + 10;
/** VM call VM_UMAP: message type VM_RQ_BASE + 11; 11 in PrivSpec.vmCalls. */
export const VM_UMAP = VM_RQ_BASE + 11;
/** VM call VM_MAP_PHYS: message type VM_RQ_BASE + 15; 15 in PrivSpec.vmCalls. */
export const VM_MAP_PHYS = VM_RQ_BASE + 15;
/** VM call VM_UNMAP_PHYS: message type VM_RQ_BASE + 16; 16 in PrivSpec.vmCalls. */
export const VM_UNMAP_PHYS = VM_RQ_BASE + 16;
/** VM call VM_MUNMAP: message type VM_RQ_BASE + 17; 17 in PrivSpec.vmCalls. */
export const VM_MUNMAP = VM_RQ_BASE + 17;
/** VM call VM_MUNMAP_TEXT: message type VM_RQ_BASE + 19; 19 in PrivSpec.vmCalls. */
export const VM_MUNMAP_TEXT = VM_RQ_BASE + 19;
/** VM call VM_REMAP: message type VM_RQ_BASE + 33; 33 in PrivSpec.vmCalls. */
export const VM_REMAP = VM_RQ_BASE + 33;
/** VM call VM_SHM_UNMAP: message type VM_RQ_BASE + 34; 34 in PrivSpec.vmCalls. */
export const VM_SHM_UNMAP = VM_RQ_BASE + 34;
/** VM call VM_GETPHYS: message type VM_RQ_BASE + 35; 35 in PrivSpec.vmCalls. */
export const VM_GETPHYS = VM_RQ_BASE + 35;
/** VM call VM_GETREF: message type VM_RQ_BASE + 36; 36 in PrivSpec.vmCalls. */
export const VM_GETREF = VM_RQ_BASE + 36;
/** VM call VM_RS_SET_PRIV: message type VM_RQ_BASE + 37; 37 in PrivSpec.vmCalls. */
export const VM_RS_SET_PRIV = VM_RQ_BASE + 37;
/** VM call VM_QUERY_EXIT: message type VM_RQ_BASE + 38; 38 in PrivSpec.vmCalls. */
export const VM_QUERY_EXIT = VM_RQ_BASE + 38;
/** VM call VM_NOTIFY_SIG: message type VM_RQ_BASE + 39; 39 in PrivSpec.vmCalls. */
export const VM_NOTIFY_SIG = VM_RQ_BASE + 39;
/** VM call VM_CTL: message type VM_RQ_BASE + 40; 40 in PrivSpec.vmCalls. */
export const VM_CTL = VM_RQ_BASE + 40;
/** Number of VM call numbers: PrivSpec.vmCalls entries are 0 .. NR_VM_CALLS - 1. */
export const NR_VM_CALLS = 41;

/**
 * Character device requests, the 3.1.6 protocol with grants (com.h DEV_RQ_BASE): fields `device` (minor),
 * `ioEndpt` (whose grant), `count` (bytes, or I/O vector entries), `request` (ioctl code), `position` and
 * `highpos` (offset, low and high 32 bits), `ioGrant` (the grant). See docs/reference/memory-driver.md.
 */
export const DEV_RQ_BASE = 0x400;
/** Open a minor device. */
export const DEV_OPEN = DEV_RQ_BASE + 6;
/** Close a minor device. */
export const DEV_CLOSE = DEV_RQ_BASE + 7;
/** Read `count` bytes at `position` into the grant `ioGrant` of `ioEndpt`. */
export const DEV_READ_S = DEV_RQ_BASE + 20;
/** Write `count` bytes at `position` from the grant `ioGrant` of `ioEndpt`. */
export const DEV_WRITE_S = DEV_RQ_BASE + 21;
/** Write from a vector of `count` {grant, size} entries, itself granted by the sender in `ioGrant`. */
export const DEV_SCATTER_S = DEV_RQ_BASE + 22;
/** Read into a vector of `count` {grant, size} entries, itself granted by the sender in `ioGrant`. */
export const DEV_GATHER_S = DEV_RQ_BASE + 23;
/** I/O control `request` on a minor device, its argument behind the grant `ioGrant` of `ioEndpt`. */
export const DEV_IOCTL_S = DEV_RQ_BASE + 24;
/** A driver's reply (callnr.h): `repEndpt` (the request's ioEndpt) and `repStatus` (bytes moved, OK or an errno). */
export const TASK_REPLY = 121;

/** PM calls (include/minix/callnr.h numbers). */
export const PM_EXIT = 1;
export const PM_FORK = 2;
export const PM_WAIT = 7;
export const PM_BRK = 17;
export const PM_GETPID = 20;
export const PM_KILL = 37;
export const PM_EXEC = 59;
/** Host → init: start a user program (grantvm's stand-in for a shell). */
export const INIT_SPAWN = 0x1f00;

/** RS requests. */
export const RS_RQ_BASE = 0x700;
export const RS_UP = RS_RQ_BASE + 0;
export const RS_DOWN = RS_RQ_BASE + 1;

/** getsysinfo selectors. */
export const GETSYSINFO = 0x1f10;
export const SI_DATA_STORE = 5;
export const SI_SUBSCRIPTION = 6;
