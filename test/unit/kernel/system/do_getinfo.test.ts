// sys_getinfo, sys_setalarm and sys_times (src/kernel/system/do_getinfo.ts) on a bare kernel: who the caller is,
// the alarm clock, alarms of 0 ms and the values sys_setalarm refuses.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../helpers/bare.ts';
import { CLOCK } from '../../../../src/include/endpoint.ts';
import { EINVAL, OK } from '../../../../src/include/errno.ts';
import {
  GET_MONOTONIC,
  GET_PROC,
  GET_WHOAMI,
  SYS_GETINFO,
  SYS_SETALARM,
  SYS_TIMES,
} from '../../../../src/include/com.ts';
import { numField } from '../../../../src/include/ipc.ts';

describe('sys_getinfo and sys_times', () => {
  it('GET_WHOAMI names the caller; GET_MONOTONIC and sys_times read the alarm clock; another request is EINVAL', async () => {
    const b = bareKernel();
    const out: unknown[] = [];
    b.spawn(20, 'asker', async (p) => {
      const who = await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI });
      out.push([who.type, who.endpoint, who.name, who.system]);
      await p.sleep(7);
      const mono = await p.kernelCall({ type: SYS_GETINFO, request: GET_MONOTONIC });
      const times = await p.kernelCall({ type: SYS_TIMES });
      out.push([mono.type, mono.now, times.type, times.now]);
      out.push((await p.kernelCall({ type: SYS_GETINFO, request: GET_PROC })).type);
    });
    await b.k.run();
    expect(out).toEqual([[OK, 20, 'asker', true], [OK, 7, OK, 7], EINVAL]);
  });
});

describe('sys_setalarm', () => {
  it('refuses a negative, infinite or missing time with EINVAL; an alarm of 0 or n ms notifies from CLOCK then', async () => {
    const b = bareKernel();
    const out: number[] = [];
    b.spawn(20, 'sleeper', async (p) => {
      for (const ms of [-1, Infinity, NaN, undefined])
        out.push((await p.kernelCall({ type: SYS_SETALARM, ms })).type);
      for (const ms of [0, 5]) {
        out.push((await p.kernelCall({ type: SYS_SETALARM, ms })).type);
        const m = await p.receive(CLOCK);
        out.push(m.source, b.k.now);
      }
      const mono = await p.kernelCall({ type: SYS_GETINFO, request: GET_MONOTONIC });
      out.push(numField(mono, 'now'));
    });
    await b.k.run();
    expect(out).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, OK, CLOCK, 0, OK, CLOCK, 5, 5]);
  });
});
