// The ported test/ds as a scenario (spec/ds.md §10, §11.1, §11.2): every dstest assertion is a check, and the
// suite is reachable as `grantvm test ds`.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/sim/scenario.ts';
import { conformanceSuites, findScenario } from '../../../src/sim/scenarios.ts';
import { dsSuite } from '../../../src/sim/dssuite.ts';

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

  it('is a built-in scenario and the ds conformance suite', () => {
    expect(findScenario('ds')).toBe(dsSuite);
    expect(conformanceSuites().get('ds')).toEqual([dsSuite]);
  });
});
