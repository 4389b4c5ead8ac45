// Models the sys_privctl wrapper of libsys (lib/syslib/sys_privctl.c): one kernel call that gives a process a
// private system privilege, the shared user privilege, or lets a held process run. Entry points: sysPrivctl,
// releaseChild.
// DIVERGES: SET_SYS takes a PrivSpec object instead of a struct priv copied from the caller's memory.
import { SYS_PRIVCTL, SYS_PRIV_ALLOW, SYS_PRIV_SET_USER } from '../include/com.ts';
import { OK } from '../include/errno.ts';
import type { PrivSpec } from '../include/priv.ts';
import type { Proc } from './proc.ts';

/**
 * sys_privctl: `request` (SYS_PRIV_ALLOW, SYS_PRIV_DISALLOW, SYS_PRIV_SET_SYS with `priv`, SYS_PRIV_SET_USER) on
 * process `endpoint`. OK, or EINVAL (endpoint not live, unknown request), ECALLDENIED (the caller may not make it).
 */
export async function sysPrivctl(
  p: Proc,
  endpoint: number,
  request: number,
  priv?: PrivSpec,
): Promise<number> {
  const m =
    priv === undefined
      ? { type: SYS_PRIVCTL, endpoint, request }
      : { type: SYS_PRIVCTL, endpoint, request, priv };
  return (await p.kernelCall(m)).type;
}

/**
 * Lets a child forked by a system process run. Such a child starts held (no privilege of its own yet), as in
 * MINIX, until its parent decides what it may do: this gives it the user privilege (SYS_PRIV_SET_USER), then
 * lets it run (SYS_PRIV_ALLOW). OK, or the first error. The caller needs SYS_PRIVCTL in its kernel calls.
 */
export async function releaseChild(p: Proc, child: number): Promise<number> {
  const r = await sysPrivctl(p, child, SYS_PRIV_SET_USER);
  return r === OK ? sysPrivctl(p, child, SYS_PRIV_ALLOW) : r;
}
