// sys_setgrant (src/kernel/system/do_setgrant.ts): who may register a grant table, the entry counts and addresses
// it takes, address 0 as "no table", and its trace event.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../helpers/bare.ts';
import { ANY } from '../../../../src/include/endpoint.ts';
import { EINVAL, EPERM, OK } from '../../../../src/include/errno.ts';
import { SYS_PRIVCTL, SYS_PRIV_DISALLOW, SYS_SETGRANT } from '../../../../src/include/com.ts';
import { GRANT_MAX_ENTRIES } from '../../../../src/include/safecopies.ts';
import { ADDRESS_SPACE_BYTES } from '../../../../src/lib/units.ts';

describe('sys_setgrant', () => {
  it('takes 0 to GRANT_MAX_ENTRIES entries at a 32-bit address; address 0 unregisters; else EINVAL, unchanged', async () => {
    const b = bareKernel();
    const out: unknown[] = [];
    const s = b.spawn(20, 'server', async (p) => {
      const set = async (addr: number, size: number) => {
        out.push((await p.kernelCall({ type: SYS_SETGRANT, addr, size })).type);
        out.push(p.kp.priv.grantTable === null ? null : { ...p.kp.priv.grantTable });
      };
      await set(0x1000, GRANT_MAX_ENTRIES);
      await set(0x2000, 0);
      for (const [addr, size] of [
        [0x3000, GRANT_MAX_ENTRIES + 1],
        [0x3000, -1],
        [0x3000, 1.5],
        [-1, 4],
        [ADDRESS_SPACE_BYTES, 4],
        [0.5, 4],
        [ADDRESS_SPACE_BYTES + 1, 0],
      ] as const) {
        await set(addr, size);
      }
      await set(ADDRESS_SPACE_BYTES - 1, 4);
      await set(0, 4);
    });
    await b.k.run();
    const ep = s.endpoint;
    const last = { addr: 0x2000, entries: 0, registeredBy: ep };
    expect(out).toEqual([
      OK,
      { addr: 0x1000, entries: GRANT_MAX_ENTRIES, registeredBy: ep },
      OK,
      last,
      ...[1, 2, 3, 4, 5, 6, 7].flatMap(() => [EINVAL, last]),
      OK,
      { addr: ADDRESS_SPACE_BYTES - 1, entries: 4, registeredBy: ep },
      OK,
      null,
    ]);
    const events = b.trace.filter((e) => e.kind === 'grant' && e.op === 'setgrant');
    expect(events[0]).toEqual({
      step: expect.any(Number) as number,
      kind: 'grant',
      op: 'setgrant',
      caller: ep,
      granter: ep,
      gid: GRANT_MAX_ENTRIES,
      result: OK,
    });
    expect(events.map((e) => (e.kind === 'grant' ? e.result : 0))).toEqual(
      out.filter((x) => typeof x === 'number'),
    );
  });

  it('a system process without its privileges (NO_PRIV) gets EPERM', async () => {
    const b = bareKernel();
    const out: number[] = [];
    b.spawn(20, 'server', async (p) => {
      // The process takes its own privileges away: it runs on until it next blocks.
      await p.kernelCall({ type: SYS_PRIVCTL, endpoint: p.endpoint, request: SYS_PRIV_DISALLOW });
      out.push((await p.kernelCall({ type: SYS_SETGRANT, addr: 0x1000, size: 4 })).type);
      out.push(p.kp.priv.grantTable === null ? 0 : 1);
      await p.receive(ANY);
    });
    await b.k.run();
    expect(out).toEqual([EPERM, 0]);
  });
});
