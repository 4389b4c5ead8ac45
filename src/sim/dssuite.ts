// The DS conformance suite as a scenario (spec/ds.md §10): RS starts `subs` and then `dstest` as services,
// as test/ds's run script does, with the privileges of test/ds/system.conf; every assertion of dstest becomes
// a check, then the subscriber's reports, the success lines, and a clean shutdown. A second boot repeats dstest under the hardened 'rs-only' label policy.
// Entry point: dsSuite.
import { DSTEST_PRIV, SUBS_PRIV, dstest, subs } from '../user/dstest.ts';
import { startTestService } from './grantsuites.ts';
import type { Scenario, ScenarioOutput } from './scenario.ts';
import { createSystem } from './system.ts';
import type { System } from './system.ts';

const SUCCESS = ['U32', 'STRING', 'MEM', 'MAP', 'LABEL'].map((t) => `DSTEST: ${t} test successful!`);

async function runDstest(sys: System, out: ScenarioOutput, prefix: string, rsOnly: boolean): Promise<string[]> {
  const lines: string[] = [];
  const ep = await startTestService(
    sys,
    'dstest',
    dstest((l) => lines.push(l), { rsOnly, onPass: (what) => out.check(`${prefix}dstest: ${what}`, true) }),
    { priv: DSTEST_PRIV },
  );
  out.check(`${prefix}RS started dstest`, ep > 0, `endpoint ${ep}`);
  for (const l of lines) out.line(l);
  const failed = lines.find((l) => l.includes('assertion failed'));
  if (failed !== undefined) out.check(`${prefix}dstest`, false, failed);
  const d = sys.rs.services.get('dstest')?.deaths[0];
  out.check(`${prefix}dstest exited with status 0`, d !== undefined && d.code === 0 && d.signal === 0, JSON.stringify(d ?? null));
  return lines;
}

export const dsSuite: Scenario = {
  name: 'ds',
  title: 'test/ds: dstest (u32, str, mem, map, label) and the subs subscriber; again under rs-only labels',
  suite: 'ds',
  config: { sanity: 'functions' },
  async run(sys, out) {
    const subsLines: string[] = [];
    const subsEp = await startTestService(sys, 'subs', subs((l) => subsLines.push(l), { drain: true }), {
      priv: SUBS_PRIV,
    });
    out.check('RS started subs', subsEp > 0, `endpoint ${subsEp}`);
    const lines = await runDstest(sys, out, '', false);
    for (const s of SUCCESS) out.check(s, lines.includes(s));
    for (const l of subsLines) out.line(l);
    out.check("subs reports test_u32 = 1234 first", subsLines[0] === 'SUBSCRIBER: key: test_u32, U32: 1234', subsLines[0] ?? 'nothing');
    out.check('subs reports the deletion last', subsLines.at(-1) === 'SUBSCRIBER: the key test_u32 was deleted.', subsLines.at(-1) ?? 'nothing');
    sys.stopService('subs');
    await sys.run();
    out.check('RS took subs down; its label is gone from DS', sys.rs.services.get('subs')?.status === 'down' && !sys.ds.entries().some((e) => e.key === 'subs'));
    sys.sanityCheck();
    out.check('sanity checks (VM, grants, DS) hold at the end', true);

    const hardened = await createSystem({ ...sys.config, dsLabelPolicy: 'rs-only' });
    const h = await runDstest(hardened, out, 'rs-only: ', true);
    out.check('rs-only: LABEL sequence ends at the EPERM publish', h.at(-1) === 'DSTEST: LABEL test successful!');
    hardened.sanityCheck();
  },
};
