// The boot processes grantvm keeps only for their slots, privileges and memory layout (vfs, log,
// tty, mfs, pfs; DESIGN.md §4): a message loop that answers every request with ENOSYS, as MINIX does for
// calls a server does not know, and ignores notifications. Entry point: standInServer.
import { NOTIFY_MESSAGE } from '../include/com.ts';
import { ANY } from '../include/endpoint.ts';
import { ENOSYS } from '../include/errno.ts';
import type { Program } from '../libsys/proc.ts';

export const standInServer: Program = async (p) => {
  for (;;) {
    const m = await p.receive(ANY);
    if (m.type !== NOTIFY_MESSAGE) await p.send(m.source, { type: ENOSYS });
  }
};
