// The grant conformance suites as scenarios (spec/grants.md §7): test/safecopy, test/safemap and test/safeperf,
// each a grantor and a requestor started as system services through RS (RS_UP with the reference system.conf
// privileges), run once with cowSafecopy off and once on, each mode on a fresh boot. Every line a service
// prints becomes a scenario line and every check it makes a scenario check.
// Entry points: safecopySuite, safemapSuite, safeperfSuite (with its options), startTestService.
import { VMPTYPE_COWMAP } from '../include/com.ts';
import { OK, SIGSEGV } from '../include/errno.ts';
import type { PrivSpec } from '../include/priv.ts';
import { safemapRecords } from '../kernel/system/do_safemap.ts';
import type { Program } from '../libsys/proc.ts';
import { safecopyGrantor, safecopyRequestor } from '../user/safecopy.ts';
import {
  safemapExtraGrantor,
  safemapExtraRequestor,
  safemapGrantor,
  safemapRequestor,
} from '../user/safemap.ts';
import { SAFEPERF_MAX_PAGES, safeperfGrantor, safeperfRequestor } from '../user/safeperf.ts';
import type { SafeperfResult } from '../user/safeperf.ts';
import { GRANT_TEST_PRIV } from '../user/safetest.ts';
import type { ElapsedClock, TestReport } from '../user/safetest.ts';
import { crossoverLines, safeperfCrossovers } from './crossover.ts';
import type { Scenario, ScenarioHost, ScenarioOutput } from './scenario.ts';
import { createSystem } from './system.ts';
import type { System } from './system.ts';

/**
 * RS_UP of a service (by default a test service with the reference grant-test privileges, never restarted); runs
 * until idle. The endpoint, or a negative errno (-1 if RS never answered).
 */
export async function startTestService(
  sys: System,
  label: string,
  program: Program,
  o: { priv?: PrivSpec; maxRestarts?: number } = {},
): Promise<number> {
  let ep = -1;
  const service = { label, program, priv: o.priv ?? GRANT_TEST_PRIV, restart: { maxRestarts: o.maxRestarts ?? 0 } };
  sys.startService(service, (r, e) => {
    ep = r === OK ? e : r;
  });
  await sys.run();
  return ep;
}

/** The service's first death: exit code and signal, or null if it is still running. */
function deathOf(sys: System, label: string): { code: number; signal: number } | null {
  return sys.rs.services.get(label)?.deaths[0] ?? null;
}

/** Checks that the service `label` has exited with status `code` (and no signal). */
export function exitedWith(sys: System, r: TestReport, label: string, code: number): void {
  const d = deathOf(sys, label);
  r.check(
    `${label} exited with status ${code}`,
    d !== null && d.code === code && d.signal === 0,
    d === null ? 'still running' : JSON.stringify(d),
  );
}

/**
 * The clock the timed tests read: the host's (ns) when it lends one (`grantvm bench`), else the machine's
 * simulated time under the system's cost profile, in ns.
 */
function elapsedClock(sys: System, host: ScenarioHost): ElapsedClock {
  const ns = host.clockNs;
  return ns !== undefined ? { now: ns, unit: 'ns' } : { now: () => sys.clock.micros() * 1000, unit: 'ns' };
}

/** The caller's system if its cowSafecopy is `cow`, else a fresh boot with the same config but `cow`. */
async function systemWithCow(sys: System, cow: boolean): Promise<System> {
  return sys.config.cowSafecopy === cow ? sys : createSystem({ ...sys.config, cowSafecopy: cow });
}

/** A report that prefixes every check with the mode, so the two runs' checks stay apart. */
function modeReport(out: ScenarioOutput, cow: boolean): TestReport {
  const tag = `[cow ${cow ? 'on' : 'off'}] `;
  return {
    line: (text) => {
      out.line(text);
    },
    check: (name, ok, detail) => {
      out.check(tag + name, ok, detail);
    },
  };
}

const cowmapPosts = (sys: System): number =>
  sys.trace.filter((e) => e.kind === 'vmreq' && e.op === 'post' && e.reqType === VMPTYPE_COWMAP).length;

/** After a suite: every checker passes and the kernel holds no mapping record. */
function quiescent(sys: System, r: TestReport): void {
  sys.sanityCheck();
  const left = safemapRecords(sys.kernel).length;
  r.check('sanity checks pass; no safemap record left', left === 0, `${left} records`);
}

/** Runs `body` once per mode, on the caller's system for its own mode and on a fresh boot for the other (only the caller's mode when the host watches one system). */
async function eachMode(
  sys: System,
  out: ScenarioOutput,
  host: ScenarioHost,
  body: (s: System, r: TestReport, cow: boolean) => Promise<void>,
): Promise<void> {
  for (const cow of host.oneSystem === true ? [sys.config.cowSafecopy] : [false, true]) {
    const s = await systemWithCow(sys, cow);
    out.line(`— cowSafecopy ${cow ? 'on' : 'off'}`);
    await body(s, modeReport(out, cow), cow);
  }
}

export const safecopySuite: Scenario = {
  name: 'safecopy',
  title: 'test/safecopy: a requestor service copies 1 B .. 32 KiB from a grantor service (COW off and on)',
  suite: 'safecopy',
  config: { sanity: 'functions' },
  run: (sys, out, host) =>
    eachMode(sys, out, host, async (s, r, cow) => {
      const before = cowmapPosts(s);
      await startTestService(s, 'grantor', safecopyGrantor(r));
      await startTestService(s, 'requestor', safecopyRequestor(r, elapsedClock(s, host)));
      await s.run();
      exitedWith(s, r, 'grantor', 0);
      exitedWith(s, r, 'requestor', 0);
      if (s.config.trace === 'memory') {
        const n = cowmapPosts(s) - before;
        r.check(
          cow
            ? 'the page-sized copies took the COW path (COWMAP requests)'
            : 'no COWMAP request with COW off',
          cow ? n === 4 : n === 0,
          `${n} COWMAP`,
        );
      }
      quiescent(s, r);
    }),
};

export const safemapSuite: Scenario = {
  name: 'safemap',
  title:
    'test/safemap: MAP, UNMAP, REVOKE, SMAP_COW, COW_SMAP, COW_SMAP2 and the error cases (COW off and on)',
  suite: 'safemap',
  config: { sanity: 'functions' },
  run: (sys, out, host) =>
    eachMode(sys, out, host, async (s, r) => {
      await startTestService(s, 'grantor', safemapGrantor(r));
      await startTestService(s, 'requestor', safemapRequestor(r));
      await s.run();
      exitedWith(s, r, 'grantor', 0);
      exitedWith(s, r, 'requestor', 0);
      quiescent(s, r);
      await startTestService(s, 'xgrantor', safemapExtraGrantor(r));
      await startTestService(s, 'xrequestor', safemapExtraRequestor(r));
      await s.run();
      exitedWith(s, r, 'xgrantor', 0);
      const d = deathOf(s, 'xrequestor');
      r.check(
        'xrequestor: its write to the read-only mapping killed it with SIGSEGV',
        d?.signal === SIGSEGV,
        JSON.stringify(d),
      );
      quiescent(s, r);
    }),
};

export interface SafeperfSweep {
  /** Page counts to sweep (default 1..50). */
  pages?: readonly number[];
  /** Timed iterations per run (default NR_TEST_ITERATIONS = 100). */
  iterations?: number;
}

const MODES = [
  { map: 0, write: 0 },
  { map: 0, write: 1 },
  { map: 1, write: 0 },
  { map: 1, write: 1 },
] as const;

/** test/safeperf: the run script's sweep, one grantor/requestor pair per (P, mode), a table per COW mode. */
export function safeperfSuite(options: SafeperfSweep = {}): Scenario {
  const pages = options.pages ?? Array.from({ length: SAFEPERF_MAX_PAGES }, (_, i) => i + 1);
  const iterations = options.iterations ?? 100;
  return {
    name: 'safeperf',
    title: `test/safeperf: safecopy vs safemap per page, read and write touch, ${pages.length} sizes (COW off and on)`,
    suite: 'safeperf',
    config: { sanity: 'off' },
    run: async (sys, out, host) => {
      const byCow = new Map<boolean, SafeperfResult[]>();
      await eachMode(sys, out, host, async (s, r, cow) => {
        await badArguments(s, r);
        const results: SafeperfResult[] = [];
        const odd: string[] = [];
        for (const p of pages) {
          for (const m of MODES) {
            const args = `pages=${p} map=${m.map} write=${m.write}`;
            const lines: string[] = [];
            const run: TestReport = {
              line: (t) => lines.push(t),
              check: (n, ok, d) => {
                r.check(n, ok, d);
              },
            };
            await startTestService(s, 'grantor', safeperfGrantor(run));
            await startTestService(
              s,
              'requestor',
              safeperfRequestor(run, elapsedClock(s, host), args, {
                iterations,
                result: (x) => results.push(x),
              }),
            );
            await s.run();
            const exits = [deathOf(s, 'grantor'), deathOf(s, 'requestor')];
            const test = m.map === 1 ? 'SAFEMAP' : 'SAFECOPY';
            const printed =
              lines.length === 2 &&
              lines[0] === `REQUESTOR: Running tests with ${args}...` &&
              new RegExp(
                `^REQUESTOR: test ${test} took an average of \\d+\\.\\d{3}(us| steps) per page$`,
              ).test(lines[1] ?? '');
            if (!printed || exits.some((d) => d?.code !== 0 || d.signal !== 0))
              odd.push(`${args}: ${JSON.stringify(lines)} ${JSON.stringify(exits)}`);
          }
        }
        r.check(
          `every run (${pages.length} sizes × 4 modes) printed its two lines and both services exited with status 0`,
          odd.length === 0 && results.length === pages.length * 4,
          odd.slice(0, 3).join('; '),
        );
        for (const l of safeperfTable(results)) out.line(l);
        byCow.set(cow, results);
        quiescent(s, r);
      });
      const off = byCow.get(false);
      const on = byCow.get(true);
      if (off !== undefined && on !== undefined) for (const l of crossoverLines(safeperfCrossovers(off, on))) out.line(l);
    },
  };
}

/** Bad arguments: the usage line and exit status 1, before any handshake. */
async function badArguments(s: System, r: TestReport): Promise<void> {
  for (const args of [
    'pages=0 map=0 write=0',
    'pages=51 map=1 write=0',
    'pages=4 map=2 write=0',
    'pages=4 map=1',
    'pages=x map=0 write=1',
  ]) {
    const lines: string[] = [];
    const quiet: TestReport = {
      line: (t) => lines.push(t),
      check: (n, ok, d) => {
        r.check(n, ok, d);
      },
    };
    await startTestService(s, 'requestor', safeperfRequestor(quiet, { now: () => 0, unit: 'step' }, args));
    await s.run();
    const usage = lines.at(-1) === 'Usage: requestor pages=<nr_pages> map=<0|1> write=<0|1>';
    r.check(
      `requestor ${args}: usage line, exit 1`,
      usage && deathOf(s, 'requestor')?.code === 1,
      `${JSON.stringify(lines)} ${JSON.stringify(deathOf(s, 'requestor'))}`,
    );
  }
}

/** The sweep as a table: pages, then µs (or steps) per page for copy-read, copy-write, map-read, map-write. */
function safeperfTable(results: readonly SafeperfResult[]): string[] {
  const unit = results[0]?.unit === 'ns' ? 'us/page' : 'steps/page';
  const head = `pages  ${['copy read', 'copy write', 'map read', 'map write'].map((h) => h.padStart(11)).join('')}   (${unit})`;
  const byPages = new Map<number, SafeperfResult[]>();
  for (const x of results) byPages.set(x.pages, [...(byPages.get(x.pages) ?? []), x]);
  const rows = [...byPages.entries()].map(([p, xs]) => {
    const cell = (map: number, write: number): string =>
      xs.find((x) => x.map === map && x.write === write)?.perPage ?? '-';
    return `${String(p).padStart(5)}  ${[cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)].map((c) => c.padStart(11)).join('')}`;
  });
  return [head, ...rows];
}
