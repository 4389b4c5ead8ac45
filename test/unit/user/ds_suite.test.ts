// The ported test/ds as a scenario (spec/ds.md §10, §11.1, §11.2): every dstest assertion is a check, and the
// suite is reachable as `grantvm test ds`.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/sim/scenario.ts';
import { conformanceSuites, findScenario } from '../../../src/sim/scenarios.ts';
import { dsSuite } from '../../../src/sim/dssuite.ts';
import { SYS_SAFECOPYFROM, SYS_SAFEREVMAP } from '../../../src/include/com.ts';
import { TTY_PROC_NR } from '../../../src/include/endpoint.ts';
import { ECALLDENIED } from '../../../src/include/errno.ts';
import { startTestService } from '../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../src/sim/system.ts';
import { DSTEST_PRIV, SUBS_PRIV } from '../../../src/user/dstest.ts';

describe('the ds conformance scenario', () => {
  it('dstest passes every assertion in both label policies; subs sees 1234 then the deletion', async () => {
    const r = await runScenario(dsSuite);
    expect(r.error).toBeNull();
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    const names = r.checks.map((c) => c.name);
    for (const t of ['U32', 'STRING', 'MEM', 'MAP', 'LABEL']) expect(names).toContain(`DSTEST: ${t} test successful!`);
    expect(names).toContain('dstest: MAP_MAPPED view sees 3 (publisher → DS → retriever)');
    expect(names).toContain('rs-only: dstest: publish_label by a non-RS process == EPERM (rs-only)');
    expect(names.filter((n) => n.startsWith('dstest: ')).length).toBeGreaterThan(25);
  });

  it('round 2: dstest and subs run under test/ds/system.conf: no safecopy or saferevmap, IPC only to pm, rs, ds, vm', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    const got: number[] = [];
    const ep = await startTestService(
      sys,
      'privs',
      async (p) => {
        got.push((await p.kernelCall({ type: SYS_SAFECOPYFROM })).type);
        got.push((await p.kernelCall({ type: SYS_SAFEREVMAP })).type);
        got.push(await p.send(TTY_PROC_NR, { type: 1 }));
        return 0;
      },
      { priv: DSTEST_PRIV },
    );
    expect(ep).toBeGreaterThan(0);
    expect(got).toEqual([ECALLDENIED, ECALLDENIED, ECALLDENIED]);
    expect(SUBS_PRIV.kernelCalls).toHaveLength(DSTEST_PRIV.kernelCalls.length - 1);
  });

  it('is a built-in scenario and the ds conformance suite', () => {
    expect(findScenario('ds')).toBe(dsSuite);
    expect(conformanceSuites().get('ds')).toEqual([dsSuite]);
  });
});
