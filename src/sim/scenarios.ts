// The built-in scenarios: what `grantvm run` lists and runs, and what the tests run too.
// Entry points: builtinScenarios, defaultReport, findScenario, conformanceSuites.
import { NR_TASKS } from '../include/endpoint.ts';
import { vmDemo } from '../user/vmdemo.ts';
import { PICTURE_LEGEND, memoryPicture } from './picture.ts';
import { bootTable } from './boot.ts';
import { safecopySuite, safemapSuite, safeperfSuite } from './grantsuites.ts';
import type { Scenario } from './scenario.ts';
import { dsSuite } from './dssuite.ts';
import { memorySuite } from './memsuite.ts';

const boot: Scenario = {
  name: 'boot',
  title: 'boot the system: the boot processes at their slots, memory accounted, sanity checks pass',
  run(sys, out) {
    const snap = sys.inspect();
    for (const e of bootTable()) {
      const p = snap.processes.find((x) => x.slot === e.slot);
      out.check(`${e.name} at slot ${e.slot}, endpoint ${e.slot}`, p?.name === e.name && p.endpoint === e.slot);
    }
    const full = snap.processes.filter((p) => bootTable().find((e) => e.slot === p.slot)?.fullVm === true);
    out.check('every full-VM boot process has a page directory', full.every((p) => p.pageDirectory !== null));
    out.check('every boot process waits for work (nothing runnable)', snap.processes.every((p) => p.state !== 'RUNNABLE'));
    const m = snap.vm.memory;
    out.check('free + used = RAM pages', m.freePages + m.usedPages === m.totalPages, `${m.freePages} + ${m.usedPages} of ${m.totalPages}`);
    sys.sanityCheck();
    out.check('VM sanity check (all invariants)', true);
    out.line(`${snap.processes.length} processes (+${NR_TASKS} kernel tasks), ${m.freePages} of ${m.totalPages} pages free`);
    return Promise.resolve();
  },
};

const vmDemoScenario: Scenario = {
  name: 'vm-demo',
  title: 'a process uses its heap, mmaps, forks (COW), munmaps, grows with brk and execs',
  config: { sanity: 'functions' },
  async run(sys, out) {
    const before = sys.inspect().vm.memory;
    const report = {
      check: (name: string, ok: boolean, detail?: string) => out.check(name, ok, detail),
      line: (text: string) => {
        out.line(text);
      },
      picture: (title: string, ep: number) => {
        out.line(`memory of ${ep}, ${title}:`);
        for (const l of memoryPicture(sys, ep)) out.line(l);
      },
    };
    out.line(PICTURE_LEGEND);
    const h = sys.spawn(vmDemo(report), { name: 'vm-demo' });
    await sys.run();
    out.check('vm-demo ended with status 0', h.exit?.code === 0 && h.exit.signal === 0, JSON.stringify(h.exit));
    const after = sys.inspect().vm.memory;
    sys.sanityCheck();
    const kept = after.internalPages - before.internalPages;
    out.check(
      'every page comes back once the workload has exited',
      before.freePages - after.freePages === kept,
      `free ${before.freePages} → ${after.freePages}; kept by VM: ${kept} (the new slots' directories and slab pages)`,
    );
  },
};

/** The built-in scenarios, in the order `grantvm run` runs them: boot, vm-demo, safecopy, safemap, ds, memory, safeperf. */
export const builtinScenarios: readonly Scenario[] = [boot, vmDemoScenario, safecopySuite, safemapSuite, dsSuite, memorySuite, safeperfSuite()];

/** The built-in scenario called `name` (e.g. 'safemap'), or undefined. */
export function findScenario(name: string): Scenario | undefined {
  return builtinScenarios.find((s) => s.name === name);
}

/** What `grantvm run` (and `npm start`) runs by default. */
export function defaultReport(): Scenario[] {
  return [...builtinScenarios];
}

/** The conformance suites (`grantvm test`): every scenario tagged with a suite, by suite name. */
export function conformanceSuites(): Map<string, Scenario[]> {
  const suites = new Map<string, Scenario[]>();
  for (const s of builtinScenarios) if (s.suite !== undefined) suites.set(s.suite, [...(suites.get(s.suite) ?? []), s]);
  return suites;
}
