// The fault-injection campaign (src/sim/faults.ts) on a small scale: every restartable service recovers every
// kill with its acknowledged state intact, a DS kill is detected as a system panic, user-program kills are seen
// by the parent's wait, nothing hangs and no frame, mapping, grant, DS slot or process leaks; the campaign
// replays from its seed.
import { describe, expect, it } from 'vitest';
import { SIGSEGV } from '../../../src/include/errno.ts';
import { FAULT_TARGETS, planFaultCampaign, runFaultCampaign, tabulate } from '../../../src/sim/faults.ts';
import type { FaultReport } from '../../../src/sim/faults.ts';

describe('fault-injection campaign', () => {
  let report: FaultReport;

  it('runs 4 kill points on every target with no hang, leak or failed check', async () => {
    report = await runFaultCampaign({ seed: 3, points: 4 });
    expect(report.injections.length).toBeGreaterThanOrEqual(20);
    for (const i of report.injections) {
      expect(i.hung, `${i.target}@${i.step}`).toBe(false);
      expect(i.problems, `${i.target}@${i.step} (${i.point})`).toEqual([]);
    }
  }, 60_000);

  it('restartable services recover every kill: detected by RS, acknowledged state intact', () => {
    for (const i of report.injections.filter((x) =>
      ['grantor', 'driver', 'mapper', 'kv'].includes(x.target),
    )) {
      expect(i.recovered, `${i.target}@${i.step}: ${i.lost.join('; ')}`).toBe(true);
      expect(i.stateLost).toBe(false);
      if (i.activated) expect(i.detected).toBe('RS restart');
    }
    expect(report.injections.filter((x) => x.target === 'kv' && x.activated).length).toBeGreaterThan(0);
  });

  it('a DS kill is detected as a system panic and loses its state (spec/ds.md §2)', () => {
    const ds = report.injections.filter((x) => x.target === 'ds');
    expect(ds.length).toBeGreaterThan(0);
    for (const i of ds)
      expect([i.activated, i.detected, i.recovered, i.stateLost]).toEqual([true, 'panic', false, true]);
  });

  it('a killed VM client is reported to its parent, and the client workload does not complete', () => {
    const user = report.injections.filter(
      (x) => x.target === 'user' && x.activated && x.point !== 'mid-exit',
    );
    expect(user.length).toBeGreaterThan(0);
    for (const i of user)
      expect([i.detected, i.recovered, i.stateLost]).toEqual(['parent wait', false, false]);
  });

  it('the table has a row per target and kill point, one total per target and a grand total', () => {
    const all = report.rows.find((r) => r.target === 'all');
    expect(all?.injected).toBe(report.injections.length);
    for (const t of ['user', 'grantor', 'driver', 'mapper', 'kv', 'ds']) {
      const rows = report.rows.filter((r) => r.target === t);
      const total = rows.find((r) => r.point === 'all');
      expect(total?.injected).toBe(rows.filter((r) => r.point !== 'all').reduce((n, r) => n + r.injected, 0));
    }
    expect(tabulate([])).toEqual([]);
  });

  it('replays from its seed: same steps, same kill points, same outcomes; a crash signal works as well', async () => {
    const a = await runFaultCampaign({ seed: 9, points: 2, targets: ['driver'], signal: SIGSEGV });
    const b = await runFaultCampaign({ seed: 9, points: 2, targets: ['driver'], signal: SIGSEGV });
    expect(a).toEqual(b);
    expect(a.injections.every((i) => i.recovered && i.detected === 'RS restart')).toBe(true);
  }, 30_000);

  it('--every-step plans a kill at every step each target is active in the reference run', async () => {
    const plan = await planFaultCampaign({ seed: 3, everyStep: true, targets: ['mapper', 'kv'] });
    expect(plan.points).toBe('every step');
    for (const t of ['mapper', 'kv'] as const) {
      const steps = plan.injections.filter((x) => x.target === t).map((x) => x.step);
      expect(steps).toEqual(plan.ref.active.get(t));
      expect(steps.length).toBeGreaterThan(20);
    }
    expect(plan.injections.every((x) => x.step > plan.ref.start && x.step < plan.ref.end)).toBe(true);
    const sampled = await planFaultCampaign({ seed: 3, points: 4, targets: FAULT_TARGETS });
    expect(sampled.injections.length).toBeLessThanOrEqual(4 * FAULT_TARGETS.length);
  });
});
