// sysPrivctl and releaseChild, from a service driven one action at a time: a child of a system service starts
// held and runs only once released; a refused or malformed request changes nothing; SET_SYS gives a private priv.
import { describe, expect, it } from 'vitest';
import {
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_PRIV_SET_SYS,
  SYS_SAFECOPYFROM,
  SYS_VSAFECOPY,
} from '../../../src/include/com.ts';
import { ECALLDENIED, EINVAL, OK } from '../../../src/include/errno.ts';
import { kernelCallList } from '../../../src/include/priv.ts';
import { releaseChild, sysPrivctl } from '../../../src/libsys/privctl.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { drivenActor } from '../../../src/sim/driven.ts';
import type { Driven } from '../../../src/sim/driven.ts';

const stateOf = (sys: System, ep: number): string =>
  sys.inspect().processes.find((p) => p.endpoint === ep)?.state ?? 'gone';

/** A booted system, a parent service (grant-test privileges: SYS_PRIVCTL included) and a child it forked, held. */
async function heldChild(): Promise<{ sys: System; parent: Driven; child: number; ran: () => boolean }> {
  const sys = await createSystem({ ramBytes: 32 * 1024 * 1024, sanity: 'top' });
  const parent = await drivenActor(sys, 'parent');
  let ran = false;
  const child = await parent.do((p) =>
    p.fork(() => {
      ran = true;
      return Promise.resolve(7);
    }, 'child'),
  );
  expect(child).toBeGreaterThan(0);
  return { sys, parent, child, ran: () => ran };
}

describe('releaseChild', () => {
  it('lets a held child of a system service run; wait() then reports its status', async () => {
    const { sys, parent, child, ran } = await heldChild();
    expect(stateOf(sys, child)).toContain('NO_PRIV');
    expect(ran()).toBe(false);
    const r = await parent.do(async (p) => ({ released: await releaseChild(p, child), w: await p.wait() }));
    expect(r).toEqual({ released: OK, w: { endpoint: child, code: 7, signal: 0 } });
    expect(ran()).toBe(true);
  });

  it('without SYS_PRIVCTL it is refused with ECALLDENIED and the child stays held', async () => {
    const { sys, child, ran } = await heldChild();
    const other = await drivenActor(sys, 'other', {
      priv: { ipcTo: 'all', kernelCalls: kernelCallList(SYS_SAFECOPYFROM), vmCalls: 'all' },
    });
    expect(await other.do((p) => releaseChild(p, child))).toBe(ECALLDENIED);
    await sys.run();
    expect(stateOf(sys, child)).toContain('NO_PRIV');
    expect(ran()).toBe(false);
  });
});

describe('sysPrivctl', () => {
  it('EINVAL for an endpoint that is not live or an unknown request, changing nothing', async () => {
    const { sys, parent, child, ran } = await heldChild();
    expect(await parent.do((p) => sysPrivctl(p, child + 1, SYS_PRIV_ALLOW))).toBe(EINVAL);
    expect(await parent.do((p) => sysPrivctl(p, child, 99))).toBe(EINVAL);
    await sys.run();
    expect(stateOf(sys, child)).toContain('NO_PRIV');
    expect(ran()).toBe(false);
  });

  it('SET_SYS gives the child a private priv with the kernel calls asked for; DISALLOW holds it again', async () => {
    const { sys, parent, child } = await heldChild();
    const priv = { ipcTo: 'all', kernelCalls: kernelCallList(SYS_VSAFECOPY), vmCalls: [] } as const;
    expect(await parent.do((p) => sysPrivctl(p, child, SYS_PRIV_SET_SYS, priv))).toBe(OK);
    const info = sys.inspect().processes.find((p) => p.endpoint === child);
    expect(info?.system).toBe(true);
    expect(info?.kernelCalls).toEqual(['SYS_VSAFECOPY']);
    expect(await parent.do((p) => sysPrivctl(p, child, SYS_PRIV_DISALLOW))).toBe(OK);
    expect(stateOf(sys, child)).toContain('NO_PRIV');
  });
});
