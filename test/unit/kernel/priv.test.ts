// The kernel's privilege records (src/kernel/priv.ts) through what they allow: a system priv's kernel calls are
// exactly its record's (call 0 included, numbers outside the table ignored), and the shared user priv is no
// system priv (a user process may not send to another user process) and makes no kernel call.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../helpers/bare.ts';
import { ANY } from '../../../src/include/endpoint.ts';
import { ECALLDENIED, EINVAL } from '../../../src/include/errno.ts';
import { GET_WHOAMI, NR_SYS_CALLS, SYS_EXEC, SYS_FORK, SYS_GETINFO } from '../../../src/include/com.ts';
import { makeSystemPriv, makeUserPriv } from '../../../src/kernel/priv.ts';
import { toProgram } from '../../../src/libsys/proc.ts';

describe('kernel privileges', () => {
  it("a system priv allows exactly its record's kernel calls, call 0 included; other numbers are ignored", async () => {
    const b = bareKernel();
    const out: number[] = [];
    b.spawn(
      20,
      'limited',
      async (p) => {
        out.push((await p.kernelCall({ type: SYS_FORK })).type);
        out.push((await p.kernelCall({ type: SYS_EXEC })).type);
        out.push((await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI })).type);
      },
      { ipcTo: 'all', kernelCalls: [0, 26 + NR_SYS_CALLS, -1], vmCalls: [] },
    );
    await b.k.run();
    // sys_fork gets to its handler (EINVAL: no arguments); sys_exec and sys_getinfo are not in the mask.
    expect(out).toEqual([EINVAL, ECALLDENIED, ECALLDENIED]);
    const mask = makeSystemPriv(1, { ipcTo: 'all', kernelCalls: 'all', vmCalls: [] }).kcallMask;
    expect([mask.length, mask.every((x) => x === 1)]).toEqual([NR_SYS_CALLS, true]);
  });

  it('the user priv: not a system priv, no kernel calls, no grant table', async () => {
    const u = makeUserPriv();
    expect([u.id, u.system, u.grantTable, u.kcallMask.some((x) => x !== 0)]).toEqual([0, false, null, false]);
    const b = bareKernel();
    const out: number[] = [];
    const other = b.k.createProcess({
      slot: 21,
      name: 'other',
      program: toProgram(b.k, async (p) => {
        await p.receive(ANY);
      }),
    });
    b.k.createProcess({
      slot: 22,
      name: 'user',
      program: toProgram(b.k, async (p) => {
        out.push(await p.send(other.endpoint, { type: 1 }));
        out.push((await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI })).type);
      }),
    });
    await b.k.run();
    expect(out).toEqual([ECALLDENIED, ECALLDENIED]);
  });
});
