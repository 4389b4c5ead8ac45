// MINIX error numbers (include/errno.h), negated as kernel calls and servers return them: OK or -Exxx.
// Entry points: the E* constants, errnoName.

export const OK = 0;
export const EPERM = -1;
export const ENOENT = -2;
export const ESRCH = -3;
export const EINTR = -4;
export const ENXIO = -6;
export const ENOEXEC = -8;
export const ECHILD = -10;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EFAULT = -14;
export const EBUSY = -16;
export const EEXIST = -17;
export const EINVAL = -22;
export const ENOSPC = -28;
export const EDOM = -33;
export const ENOSYS = -38;
export const ELOOP = -40;
export const ELOCKED = -101;
export const EBADCALL = -102;
export const ECALLDENIED = -104;
export const EDEADSRCDST = -105;
export const ENOTREADY = -106;
export const EBADREQUEST = -107;
export const EDONTREPLY = -201;

const names: Readonly<Record<number, string>> = {
  [OK]: 'OK',
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [ESRCH]: 'ESRCH',
  [EINTR]: 'EINTR',
  [ENXIO]: 'ENXIO',
  [ENOEXEC]: 'ENOEXEC',
  [ECHILD]: 'ECHILD',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [EDOM]: 'EDOM',
  [ENOSYS]: 'ENOSYS',
  [ELOOP]: 'ELOOP',
  [ELOCKED]: 'ELOCKED',
  [EBADCALL]: 'EBADCALL',
  [ECALLDENIED]: 'ECALLDENIED',
  [EDEADSRCDST]: 'EDEADSRCDST',
  [ENOTREADY]: 'ENOTREADY',
  [EBADREQUEST]: 'EBADREQUEST',
  [EDONTREPLY]: 'EDONTREPLY',
};

/** 'EPERM' for -1, 'OK' for 0, the number itself for anything else. */
export function errnoName(code: number): string {
  return names[code] ?? String(code);
}

/** Signals that matter to the model (include/signal.h). */
export const SIGABRT = 6;
export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGTERM = 15;
