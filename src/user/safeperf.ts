// The reference test/safeperf services (spec/grants.md §7): the grantor grants 50 pages READ|WRITE|MAP; the
// requestor, given `pages=P map=0|1 write=0|1`, times 100 iterations of sys_safemap (map=1, the safeunmap after
// it untimed) or sys_safecopyfrom (map=0), each followed by a one-byte read or write per page, and prints the
// average per page. Entry points: safeperfGrantor, safeperfRequestor, parseSafeperfArgs, SafeperfResult.
// DIVERGES: the fraction is zero-padded to 3 digits (MINIX printed 0.05 µs as "0.50"); the clock is the
// machine's simulated time under the cost profile (docs/cost-model.md) unless the host lends its own.
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../include/safecopies.ts';
import { errnoName } from '../include/errno.ts';
import type { Program } from '../libsys/proc.ts';
import {
  PAGE,
  TestFailed,
  fifoNotify,
  fifoWait,
  staticBuffer,
  withStaticData,
  mustOk,
  peerByLabel,
  receiveEndpoint,
  receiveGrant,
  runTest,
  sendEndpoint,
  sendGrant,
} from './safetest.ts';
import type { ElapsedClock, TestReport } from './safetest.ts';

export const SAFEPERF_MAX_PAGES = 50;
const BUF_SIZE = SAFEPERF_MAX_PAGES * PAGE;
const NR_TEST_ITERATIONS = 100;
export const SAFEPERF_USAGE = 'Usage: requestor pages=<nr_pages> map=<0|1> write=<0|1>';

/** The requestor's arguments: `pages=P map=0|1 write=0|1`. */
export interface SafeperfArgs {
  /** Pages per call, 1..50. */
  pages: number;
  /** 1: sys_safemap; 0: sys_safecopyfrom. */
  map: 0 | 1;
  /** 1: a one-byte write per page after the call; 0: a one-byte read. */
  write: 0 | 1;
}

/** One run's result, for the sweep's table: the average per page as printed. */
export interface SafeperfResult extends SafeperfArgs {
  /** The average per page as printed (X.YYY): µs with a ns clock (simulated or the host's), else steps. */
  perPage: string;
  /** The clock's unit: 'ns' (the average is in µs) or 'step'. */
  unit: 'ns' | 'step';
}

/** env_get_param + atoi: the integer prefix of `key=value` in args, or null if the key is absent. */
function param(args: string, key: string): number | null {
  const kv = args
    .split(/\s+/)
    .map((w) => w.split('='))
    .find((w) => w[0] === key && w.length === 2);
  if (kv === undefined) return null;
  const n = Number.parseInt(kv[1] ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

const flag = (n: number | null): 0 | 1 | null => (n === 0 || n === 1 ? n : null);

/** The requestor's arguments, or the complaint lines to print before the usage line. */
export function parseSafeperfArgs(
  args: string,
): { ok: true; args: SafeperfArgs } | { ok: false; lines: string[] } {
  const pages = param(args, 'pages');
  if (pages === null || pages <= 0) return { ok: false, lines: [] };
  if (pages > SAFEPERF_MAX_PAGES)
    return { ok: false, lines: [`REQUESTOR: too many pages. Max allowed: ${SAFEPERF_MAX_PAGES}`] };
  const map = flag(param(args, 'map'));
  const write = flag(param(args, 'write'));
  if (map === null || write === null) return { ok: false, lines: [] };
  return { ok: true, args: { pages, map, write } };
}

/** X.YYY with the fraction zero-padded (the reference's %d.%d, corrected). */
export function formatAverage(x: number): string {
  const whole = Math.trunc(x);
  return `${whole}.${String(Math.trunc(x * 1000) % 1000).padStart(3, '0')}`;
}

export function safeperfGrantor(r: TestReport): Program {
  return withStaticData(r, SAFEPERF_MAX_PAGES, (p) =>
    runTest(r, async () => {
      const buf = staticBuffer(p, SAFEPERF_MAX_PAGES);
      const req = await receiveEndpoint(p);
      const g = await p.cpf.grantDirect(req, buf, BUF_SIZE, CPF_READ | CPF_WRITE | CPF_MAP);
      if (g.id < 0) throw new TestFailed(`GRANTOR: cpf_grant_direct failed: ${errnoName(g.errno)}`);
      await sendGrant(p, req, [g.id]);
      await p.writeU8(buf, 0);
      await fifoNotify(p, req);
      await fifoWait(p, req);
    }),
  );
}

export interface SafeperfOptions {
  iterations?: number;
  /** Receives the run's result (the scenario builds its table from these). */
  result?: (x: SafeperfResult) => void;
}

export function safeperfRequestor(
  r: TestReport,
  clock: ElapsedClock,
  argv: string,
  options: SafeperfOptions = {},
  grantorLabel = 'grantor',
): Program {
  const iterations = options.iterations ?? NR_TEST_ITERATIONS;
  return withStaticData(r, SAFEPERF_MAX_PAGES, async (p) => {
    const parsed = parseSafeperfArgs(argv);
    if (!parsed.ok) {
      for (const l of parsed.lines) r.line(l);
      r.line(SAFEPERF_USAGE);
      return 1;
    }
    const { pages, map, write } = parsed.args;
    r.line(`REQUESTOR: Running tests with pages=${pages} map=${map} write=${write}...`);
    return runTest(r, async () => {
      const buf = staticBuffer(p, SAFEPERF_MAX_PAGES);
      const grantor = await peerByLabel(p, grantorLabel);
      await sendEndpoint(p, grantor);
      const { granter, gids } = await receiveGrant(p, grantor);
      const gid = gids[0] ?? -1;
      const bytes = pages * PAGE;
      await fifoWait(p, granter);
      let total = 0;
      for (let i = 0; i < iterations; i++) {
        const t0 = clock.now();
        const res =
          map === 1
            ? await p.sys.safemap(granter, gid, 0, buf, bytes, true)
            : await p.sys.safecopyFrom(granter, gid, 0, buf, bytes);
        mustOk(res, 'REQUESTOR', map === 1 ? 'safemap' : 'safecopy');
        for (let a = buf; a < buf + bytes; a += PAGE) {
          if (write === 1) await p.writeU8(a, 1);
          else await p.readU8(a);
        }
        total += clock.now() - t0;
        if (map === 1) mustOk(await p.sys.safeunmap(buf), 'REQUESTOR', 'safeunmap');
      }
      const perPage = (clock.unit === 'ns' ? total / 1000 : total) / (iterations * pages);
      const text = formatAverage(perPage);
      r.line(
        `REQUESTOR: test ${map === 1 ? 'SAFEMAP' : 'SAFECOPY'} took an average of ${text}${clock.unit === 'ns' ? 'us' : ' steps'} per page`,
      );
      options.result?.({ pages, map, write, perPage: text, unit: clock.unit });
      await fifoNotify(p, granter);
    });
  });
}
