// The boot processes grantvm keeps only for their slots, privileges and memory layout (vfs, log,
// tty, mfs, pfs; DESIGN.md §4): a message loop that answers every request with ENOSYS, as MINIX does for
// calls a server does not know, and ignores notifications. Entry points: standInServer, HostActions.
// DIVERGES: a stand-in given host actions (VFS's, System.asVfs) runs them when the kernel notifies it, so that the
// host can make VFS's calls — magic grants, which the kernel honours in VFS's table only — as MINIX's VFS makes
// them for its own requests.
import { NOTIFY_MESSAGE } from '../include/com.ts';
import { ANY, KERNEL } from '../include/endpoint.ts';
import { ENOSYS } from '../include/errno.ts';
import type { Proc, Program } from '../libsys/proc.ts';

/** Actions the host queues for a stand-in; a notification from KERNEL runs every one queued, in order. */
export type HostActions = ((p: Proc) => Promise<void>)[];

/** A stand-in's program; `host` is its queue of host actions (none by default). */
export function standInServer(host: HostActions = []): Program {
  return async (p) => {
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type !== NOTIFY_MESSAGE) await p.send(m.source, { type: ENOSYS });
      // Notifications coalesce: one may stand for several actions queued meanwhile.
      else if (m.source === KERNEL) for (let a = host.shift(); a !== undefined; a = host.shift()) await a(p);
    }
  };
}
