// Models init (servers/init): the ancestor of user programs. grantvm's init has no /etc/rc: the host asks it
// to start programs (the stand-in for a shell), and it forks a child that execs each program's image.
// Entry points: createInit, SpawnRequest.
// DIVERGES: the request queue is host-side; a notification tells init to look at it. PM reaps init's
// children itself, so init never blocks in wait().
import { NOTIFY_MESSAGE } from '../include/com.ts';
import { ANY } from '../include/endpoint.ts';
import type { ExecImage } from '../include/vm.ts';
import type { Program } from '../libsys/proc.ts';

export interface SpawnRequest {
  image: ExecImage;
  main: Program;
  /** Told the child's endpoint (or a negative errno if fork failed). */
  started(endpoint: number): void;
}

/** Exit status of a child whose exec failed (as a shell's "command not runnable"). */
export const EXEC_FAILED_STATUS = 126;

export function createInit(queue: SpawnRequest[]): Program {
  return async (p) => {
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type !== NOTIFY_MESSAGE) continue;
      for (const req of queue.splice(0)) {
        const child = await p.fork(async (c) => {
          await c.exec(req.image, req.main);
          return EXEC_FAILED_STATUS;
        }, req.image.name);
        req.started(child);
      }
    }
  };
}
