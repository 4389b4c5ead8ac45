// Small workloads shared by the host-API tests: known work whose faults, COW breaks and exits are counted.
import { OK } from '../../src/include/errno.ts';
import { VM_PROCSTART } from '../../src/include/vm.ts';
import type { System } from '../../src/sim/system.ts';

/** The first heap page of a spawned program (the heap starts after 4 pages of text). */
export const HEAP = VM_PROCSTART + 4 * 4096;

/** Spawns two processes that write three heap pages each, fork, and whose children write one (a COW break). */
export function forkWorkload(sys: System): void {
  for (let i = 0; i < 2; i++) {
    sys.spawn(async (p) => {
      for (let j = 0; j < 3; j++) await p.writeU32(HEAP + j * 4096, j);
      await p.fork(async (q) => {
        await q.writeU32(HEAP, 9);
      });
      await p.wait();
      return OK;
    });
  }
}
