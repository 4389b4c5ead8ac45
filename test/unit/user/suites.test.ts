// The ported reference suites as scenarios (spec/grants.md §7; checklist 52, 53, 54): run with sanity
// 'functions', every check must pass and the services must print the reference lines.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/sim/scenario.ts';
import type { ScenarioResult } from '../../../src/sim/scenario.ts';
import { safecopySuite, safemapSuite, safeperfSuite } from '../../../src/sim/grantsuites.ts';
import { conformanceSuites, defaultReport, findScenario } from '../../../src/sim/scenarios.ts';
import { SAFEPERF_USAGE, formatAverage, parseSafeperfArgs } from '../../../src/user/safeperf.ts';

function expectAllPassed(r: ScenarioResult): void {
  expect(r.error).toBeNull();
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  expect(r.checks.length).toBeGreaterThan(0);
}

describe('the conformance scenarios', () => {
  it('53: test/safecopy — 16 sizes in both COW modes, granter writes after the copy unseen', async () => {
    const r = await runScenario(safecopySuite, { sanity: 'functions' });
    expectAllPassed(r);
    const sizes = r.lines.filter((l) => /^REQUESTOR: SAFECOPY 0x[0-9a-f]+ - \d+ ns$/.test(l));
    expect(sizes).toHaveLength(32);
    expect(sizes.slice(0, 16).map((l) => l.split(' ')[2])).toEqual(
      Array.from({ length: 16 }, (_, i) => `0x${(1 << i).toString(16)}`),
    );
    for (const mode of ['off', 'on']) {
      expect(r.checks.map((c) => c.name)).toContain(
        `[cow ${mode}] REQUESTOR: the granter's later writes do not show in the copy`,
      );
    }
  });

  it('53: with the host clock, test/safecopy labels its times in ns', async () => {
    let t = 0;
    const r = await runScenario(safecopySuite, {}, { clockNs: () => (t += 1000) });
    const sizes = r.lines.filter((l) => l.startsWith('REQUESTOR: SAFECOPY 0x') && l.includes(' - '));
    expect(sizes).toHaveLength(32);
    for (const l of sizes) expect(l).toMatch(/ - \d+ ns$/);
  });

  it('52: test/safemap — the six cases with their expected values in both COW modes, and the added cases', async () => {
    const r = await runScenario(safemapSuite, { sanity: 'functions' });
    expectAllPassed(r);
    const cases = ['MAP', 'UNMAP', 'REVOKE', 'SMAP_COW', 'COW_SMAP', 'COW_SMAP2'];
    for (const who of ['GRANTOR', 'REQUESTOR']) {
      for (const c of cases)
        expect(r.lines.filter((l) => l === `${who}: test ${c} succeeded`)).toHaveLength(2);
    }
    expect(r.lines.filter((l) => l === 'REQUESTOR: test SMAP_COW child succeeded')).toHaveLength(2);
    const names = r.checks.map((c) => c.name);
    for (const mode of ['off', 'on']) {
      for (const n of [
        'REQUESTOR: the 21st mapping → EBUSY',
        'REQUESTOR: safemap of a grant without CPF_MAP → EPERM',
        'REQUESTOR: writable safemap of a grant without CPF_WRITE → EPERM',
        'REQUESTOR: safemap at an unaligned address → EINVAL',
        'xrequestor: its write to the read-only mapping killed it with SIGSEGV',
        'GRANTOR: test OWNER EXIT (the grantee keeps the last contents) succeeded',
      ]) {
        expect(names).toContain(`[cow ${mode}] ${n}`);
      }
    }
  });

  it('54: test/safeperf — one result per (P, mode) for P = 1..50, COW off and on; bad arguments give the usage line', async () => {
    // The whole sweep is 400 service pairs: per-function sanity checks would take half a minute, so they run
    // once at the end of each mode (and per function in the short sweep below).
    const r = await runScenario(safeperfSuite({ iterations: 1 }), { sanity: 'off' });
    expectAllPassed(r);
    const rows = r.lines.filter((l) => /^\s+\d+(\s+\d+\.\d{3}){4}$/.test(l));
    expect(rows).toHaveLength(100);
    expect(r.checks.filter((c) => c.name.includes('usage line, exit 1'))).toHaveLength(10);
  });

  it('safeperf, short sweep with per-function sanity checks', async () => {
    const r = await runScenario(safeperfSuite({ pages: [1, 2, 50], iterations: 2 }), { sanity: 'functions' });
    expectAllPassed(r);
  });

  it('safeperf with the host clock prints microseconds', async () => {
    let t = 0;
    const r = await runScenario(
      safeperfSuite({ pages: [1, 3], iterations: 2 }),
      {},
      { clockNs: () => (t += 1500) },
    );
    expectAllPassed(r);
    expect(r.lines.some((l) => l.includes('(us/page)'))).toBe(true);
  });

  it('the suites are registered: grantvm test finds them; the default report includes them', () => {
    const suites = conformanceSuites();
    for (const s of ['safecopy', 'safemap', 'safeperf']) {
      expect(suites.get(s)?.length).toBe(1);
      expect(findScenario(s)?.suite).toBe(s);
    }
    expect(defaultReport().map((s) => s.name)).toEqual(expect.arrayContaining(['safecopy', 'safemap']));
  });
});

describe('safeperf arguments and output format', () => {
  it('accepts pages 1..50 and flags 0|1; anything else is a usage error', () => {
    expect(parseSafeperfArgs('pages=50 map=1 write=0')).toEqual({
      ok: true,
      args: { pages: 50, map: 1, write: 0 },
    });
    expect(parseSafeperfArgs('write=1 pages=1 map=0')).toEqual({
      ok: true,
      args: { pages: 1, map: 0, write: 1 },
    });
    for (const bad of [
      '',
      'pages=0 map=0 write=0',
      'pages=-1 map=0 write=0',
      'pages=4 map=2 write=0',
      'pages=4 map=1',
      'pages=x map=1 write=1',
    ]) {
      expect(parseSafeperfArgs(bad).ok, bad).toBe(false);
    }
    expect(parseSafeperfArgs('pages=51 map=0 write=0')).toEqual({
      ok: false,
      lines: ['REQUESTOR: too many pages. Max allowed: 50'],
    });
    expect(SAFEPERF_USAGE).toBe('Usage: requestor pages=<nr_pages> map=<0|1> write=<0|1>');
  });

  it('pads the fraction to three digits', () => {
    expect(formatAverage(0.05)).toBe('0.050');
    expect(formatAverage(12.3456)).toBe('12.345');
    expect(formatAverage(3)).toBe('3.000');
  });
});
