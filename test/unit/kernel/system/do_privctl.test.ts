// sys_privctl (src/kernel/system/do_privctl.ts): SET_SYS gives a private priv (the given record or the default
// service one: its kernel-call mask is what the process may then call), SET_USER the shared user priv; other
// requests and dead endpoints are EINVAL.
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../helpers/bare.ts';
import { ANY } from '../../../../src/include/endpoint.ts';
import { ECALLDENIED, EINVAL, OK } from '../../../../src/include/errno.ts';
import {
  GET_WHOAMI,
  SYS_GETINFO,
  SYS_PRIVCTL,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
  SYS_RUNCTL,
  SYS_TIMES,
} from '../../../../src/include/com.ts';
import { DEFAULT_SERVICE_SPEC, kernelCallList } from '../../../../src/include/priv.ts';
import type { PrivSpec } from '../../../../src/include/priv.ts';

/** A target that, at each message, tries sys_times, sys_getinfo and sys_runctl and records the results. */
function setup() {
  const b = bareKernel();
  const tried: number[][] = [];
  const target = b.spawn(21, 'target', async (p) => {
    for (;;) {
      await p.receive(ANY);
      tried.push([
        (await p.kernelCall({ type: SYS_TIMES })).type,
        (await p.kernelCall({ type: SYS_GETINFO, request: GET_WHOAMI })).type,
        (await p.kernelCall({ type: SYS_RUNCTL, endpoint: 999, action: 0 })).type,
      ]);
    }
  });
  return { b, tried, target };
}

describe('sys_privctl', () => {
  it("SET_SYS with a record: a new private priv, whose mask is the record's calls", async () => {
    const { b, tried, target } = setup();
    const before = target.kp.priv;
    const spec: PrivSpec = { ipcTo: 'all', kernelCalls: kernelCallList(SYS_TIMES), vmCalls: [] };
    const results: number[] = [];
    b.spawn(20, 'rs', async (p) => {
      results.push(
        (
          await p.kernelCall({
            type: SYS_PRIVCTL,
            endpoint: target.endpoint,
            request: SYS_PRIV_SET_SYS,
            priv: spec,
          })
        ).type,
      );
      await p.send(target.endpoint, { type: 1 });
    });
    await b.k.run();
    expect(results).toEqual([OK]);
    expect(tried).toEqual([[OK, ECALLDENIED, ECALLDENIED]]);
    expect([target.kp.priv.system, target.kp.priv.spec, target.kp.priv.grantTable]).toEqual([
      true,
      spec,
      null,
    ]);
    expect(target.kp.priv.id).not.toBe(before.id);
    expect(target.kp.priv.id).toBeGreaterThan(0);
  });

  it('SET_SYS without a record gives the default service priv; SET_USER the shared user priv (no kernel calls)', async () => {
    const { b, tried, target } = setup();
    const results: number[] = [];
    b.spawn(
      20,
      'rs',
      async (p) => {
        results.push(
          (await p.kernelCall({ type: SYS_PRIVCTL, endpoint: target.endpoint, request: SYS_PRIV_SET_SYS }))
            .type,
        );
        await p.send(target.endpoint, { type: 1 });
        results.push(
          (await p.kernelCall({ type: SYS_PRIVCTL, endpoint: target.endpoint, request: SYS_PRIV_SET_USER }))
            .type,
        );
        await p.send(target.endpoint, { type: 1 });
        // below the target's priority: the target runs as soon as it has a message
      },
      undefined,
      6,
    );
    await b.k.run();
    expect(results).toEqual([OK, OK]);
    // The default record allows sys_times and sys_getinfo, not sys_runctl; the user priv allows nothing.
    expect(tried).toEqual([
      [OK, OK, ECALLDENIED],
      [ECALLDENIED, ECALLDENIED, ECALLDENIED],
    ]);
    expect(target.kp.priv).toBe(b.k.userPriv);
    expect(DEFAULT_SERVICE_SPEC.kernelCalls).not.toContain(46);
  });

  it('another request, or a dead endpoint, is EINVAL and changes nothing', async () => {
    const { b, target } = setup();
    const before = target.kp.priv;
    const results: number[] = [];
    b.spawn(20, 'rs', async (p) => {
      for (const m of [
        { endpoint: target.endpoint, request: 0 },
        { endpoint: target.endpoint, request: 5 },
        { endpoint: 999, request: SYS_PRIV_SET_USER },
      ]) {
        results.push((await p.kernelCall({ type: SYS_PRIVCTL, ...m })).type);
      }
    });
    await b.k.run();
    expect(results).toEqual([EINVAL, EINVAL, EINVAL]);
    expect(target.kp.priv).toBe(before);
  });
});
