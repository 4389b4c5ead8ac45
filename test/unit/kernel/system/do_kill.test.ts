// sys_kill, sys_getksig and sys_endksig (src/kernel/system/do_kill.ts): the signal numbers sys_kill takes, and
// with a PM at its slot the pending-signal protocol (PM fetches the signals, says when it is done with them).
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../helpers/bare.ts';
import { ANY, NONE, PM_PROC_NR, SYSTEM } from '../../../../src/include/endpoint.ts';
import { EINVAL, OK } from '../../../../src/include/errno.ts';
import { SYS_ENDKSIG, SYS_GETKSIG, SYS_KILL } from '../../../../src/include/com.ts';
import { RTS } from '../../../../src/kernel/proc.ts';

describe('sys_kill', () => {
  it('takes signals 1 to 31; 0, 32, a fraction or a dead endpoint is EINVAL (a bare kernel ends the process)', async () => {
    const b = bareKernel();
    const victims = [21, 22].map((s) =>
      b.spawn(s, `v${String(s)}`, async (p) => {
        await p.receive(ANY);
      }),
    );
    const out: number[] = [];
    b.spawn(20, 'killer', async (p) => {
      const [a, c] = victims.map((v) => v.endpoint);
      for (const [endpoint, sig] of [
        [a, 0],
        [a, 32],
        [a, 1.5],
        [999, 9],
        [a, 1],
        [c, 31],
      ]) {
        out.push((await p.kernelCall({ type: SYS_KILL, endpoint, sig })).type);
      }
    });
    await b.k.run();
    expect(out).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, OK, OK]);
    expect(victims.map((v) => [v.kp.inUse, v.kp.exitStatus])).toEqual([
      [false, 1],
      [false, 31],
    ]);
  });
});

describe('sys_getksig and sys_endksig', () => {
  it('PM fetches each signalled process once with its signal mask, then NONE; endksig lets the process go', async () => {
    const b = bareKernel({ signalsToPm: true });
    const out: unknown[] = [];
    const victim = b.spawn(21, 'victim', async (p) => {
      await p.receive(ANY);
      out.push('victim ran');
    });
    b.spawn(
      PM_PROC_NR,
      'pm',
      async (p) => {
        const note = await p.receive(ANY);
        out.push(note.source === SYSTEM ? 'pm notified' : 'pm: other');
        for (let i = 0; i < 2; i++) {
          const r = await p.kernelCall({ type: SYS_GETKSIG });
          out.push([r.type, r.endpoint, r.sigmask]);
        }
        out.push((victim.kp.rts & RTS.SIGNALED) !== 0);
        // A second signal while PM holds the first: the process stays signalled until its mask is empty.
        await p.kernelCall({ type: SYS_KILL, endpoint: victim.endpoint, sig: 3 });
        out.push((await p.kernelCall({ type: SYS_ENDKSIG, endpoint: victim.endpoint })).type);
        out.push((victim.kp.rts & RTS.SIGNALED) !== 0);
        const again = await p.kernelCall({ type: SYS_GETKSIG });
        out.push([again.endpoint, again.sigmask]);
        out.push((await p.kernelCall({ type: SYS_ENDKSIG, endpoint: victim.endpoint })).type);
        out.push((await p.kernelCall({ type: SYS_ENDKSIG, endpoint: 999 })).type);
        await p.send(victim.endpoint, { type: 1 });
      },
      undefined,
      5,
    );
    b.spawn(22, 'killer', async (p) => {
      out.push((await p.kernelCall({ type: SYS_KILL, endpoint: victim.endpoint, sig: 2 })).type);
      out.push((await p.kernelCall({ type: SYS_KILL, endpoint: victim.endpoint, sig: 15 })).type);
    });
    await b.k.run();
    expect(out).toEqual([
      OK,
      OK,
      'pm notified',
      [OK, victim.endpoint, (1 << 2) | (1 << 15)],
      [OK, NONE, 0],
      true,
      OK,
      true,
      [victim.endpoint, 1 << 3],
      OK,
      EINVAL,
      'victim ran',
    ]);
  });
});
