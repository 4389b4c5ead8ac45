// Benchmarks the data store (DS) on a whole system (createSystem, sanity 'off', no trace) with its clients started
// through RS, as the DS tests run them. Entry point: runDsBench(); run directly with `npx tsx bench/ds.bench.ts`.
//  1. publish+retrieve round trips for U32, STR, MEM (64 B, 4 KiB) and MAP, each against a host baseline of the
//     same work measured in the same run (a JS Map set+get of the value, TypedArray copies of the same bytes).
//     MAP cannot be published twice under a key (OVERWRITE → EINVAL), so its faithful pair is the cycle
//     publish_map + retrieve COPY_MAPPED + delete_map; the live use (publisher stores a word in its published
//     page, a reader retrieves the page with COPY_MAPPED) is measured too.
//  2. subscription fan-out: one U32 publish (OVERWRITE) seen by N subscriber services, each draining ds_check to
//     ENOENT on DS's notification; the time from the publish until the system is idle again, divided by N. Baseline:
//     N host async subscribers woken by promise resolution, each reading the value from a Map.
//  3. restart: a stateful service (U32 counter, MEM table, live MAP ring, as test/unit/servers/ds/restart.test.ts)
//     is killed with System.kill and restarted by RS; kernel steps (sys.kernel.step) and host time from the kill
//     until the new instance has recovered its state from DS and republished its ring. Baseline: the same recovery
//     run again by a live instance (no kill), so the ratio is the cost of death, reaping, fork and RS setup.
// Host time is hostNow (wall clock, or CPU time with --clock cpu), median (min–max) of several rounds, model and baseline interleaved.
import { DSF_OVERWRITE, DSMF_COPY_MAPPED } from '../../include/ds.ts';
import { DS_PROC_NR, KERNEL } from '../../include/endpoint.ts';
import { ENOENT, ESRCH, OK } from '../../include/errno.ts';
import { DEFAULT_SERVICE_SPEC } from '../../include/priv.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../include/vm.ts';
import { kernelNotify } from '../../kernel/ipc.ts';
import {
  dsCheck,
  dsDeleteMap,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSubscribe,
} from '../../libsys/ds.ts';
import type { Program, Proc } from '../../libsys/proc.ts';
import { vmMmap } from '../../libsys/vm.ts';
import { startTestService } from '../../sim/grantsuites.ts';
import { createSystem } from '../../sim/system.ts';
import type { System } from '../../sim/system.ts';
import type { BenchResult, Progress } from './report.ts';
import { Rounds, hostNow, printResults } from './report.ts';
import { drivenActor } from '../../sim/driven.ts';
import type { Driven } from '../../sim/driven.ts';

const PAGE = 4096;
const now = hostNow;

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`ds bench: ${what}`);
}

function boot(): Promise<System> {
  return createSystem({ sanity: 'off', trace: null });
}

/** RS_UP of `label` running `program`; runs until idle; the endpoint. */
async function startService(sys: System, label: string, program: Program, maxRestarts = 0): Promise<number> {
  const ep = await startTestService(sys, label, program, { priv: DEFAULT_SERVICE_SPEC, maxRestarts });
  must(ep >= 0 && sys.panicked === null, `${label} did not start (${ep})`);
  return ep;
}

/** Lets a service blocked in `receive(KERNEL)` go on (the host's go-ahead). */
function poke(sys: System, ep: number): void {
  const kp = sys.kernel.liveProc(ep);
  if (kp === null) throw new Error(`ds bench: ${ep} is not live`);
  kernelNotify(sys.kernel, KERNEL, kp);
}

/** A service that runs host-queued actions, one per go-ahead, with a 4-page buffer. */
function worker(sys: System, label: string): Promise<Driven> {
  return drivenActor(sys, label, {
    priv: DEFAULT_SERVICE_SPEC,
    pages: 4,
    afterRun: () => must(sys.panicked === null, `${label}: panic ${sys.panicked?.message ?? ''}`),
  });
}

// ---------------------------------------------------------------- 1. round trips

/** A model round trip (ops × it, timed inside the service) and its host counterpart. */
interface RoundTrip {
  name: string;
  /** Runs `n` model round trips in the worker; ms. */
  model: (p: Proc, buf: number, n: number) => Promise<number>;
  /** Runs `n` host round trips; ms. */
  host: (n: number) => number;
  /** Model round trips per round (sized for ~0.1 s each). */
  n: number;
}

let sink = 0;

function memTrip(len: number): RoundTrip {
  const src = new Uint8Array(len).map((_, i) => (i * 7 + 1) & 0xff);
  const dst = new Uint8Array(len);
  return {
    name: `MEM ${len === PAGE ? '4 KiB' : `${len} B`}`,
    n: len === PAGE ? 1500 : 2000,
    async model(p, buf, n) {
      // Value at buf (page 0), retrieved into page 1; keys travel in the library's scratch page.
      await p.write(buf, src);
      const t0 = now();
      for (let i = 0; i < n; i++) {
        must((await dsPublishMem(p, 'b.mem', buf, len, DSF_OVERWRITE)) === OK, 'publish_mem');
        must((await dsRetrieveMem(p, 'b.mem', buf + PAGE, len)).result === OK, 'retrieve_mem');
      }
      const t = now() - t0;
      const back = await p.read(buf + PAGE, len);
      must(back.every((b, i) => b === src[i]), 'MEM bytes came back');
      return t;
    },
    host(n) {
      const m = new Map<string, Uint8Array>();
      const t0 = now();
      for (let i = 0; i < n; i++) {
        src[0] = i & 0xff;
        m.set('b.mem', src.slice(0, len)); // DS copies the value into its heap
        dst.set(m.get('b.mem') ?? src); // and out into the retriever's buffer
        sink += dst[0] ?? 0;
      }
      return now() - t0;
    },
  };
}

function roundTrips(): RoundTrip[] {
  const page = new Uint8Array(PAGE);
  const page32 = new Uint32Array(page.buffer);
  const out = new Uint8Array(PAGE);
  return [
    {
      name: 'U32',
      n: 3000,
      async model(p, _buf, n) {
        const t0 = now();
        for (let i = 0; i < n; i++) {
          must((await dsPublishU32(p, 'b.u32', i, DSF_OVERWRITE)) === OK, 'publish_u32');
          must((await dsRetrieveU32(p, 'b.u32')).value === i, 'retrieve_u32');
        }
        return now() - t0;
      },
      host(n) {
        const m = new Map<string, number>();
        const t0 = now();
        for (let i = 0; i < n; i++) {
          m.set('b.u32', i >>> 0);
          sink += m.get('b.u32') ?? 0;
        }
        return now() - t0;
      },
    },
    {
      name: 'STR',
      n: 3000,
      async model(p, _buf, n) {
        const t0 = now();
        for (let i = 0; i < n; i++) {
          must((await dsPublishStr(p, 'b.str', 'fifteen chars!!', DSF_OVERWRITE)) === OK, 'publish_str');
          must((await dsRetrieveStr(p, 'b.str')).value === 'fifteen chars!!', 'retrieve_str');
        }
        return now() - t0;
      },
      host(n) {
        const m = new Map<string, string>();
        const t0 = now();
        for (let i = 0; i < n; i++) {
          m.set('b.str', i % 2 === 0 ? 'fifteen chars!!' : 'fifteen chars!?');
          sink += m.get('b.str')?.length ?? 0;
        }
        return now() - t0;
      },
    },
    memTrip(64),
    memTrip(PAGE),
    {
      name: 'MAP cycle: publish_map + COPY_MAPPED + delete_map',
      n: 1000,
      async model(p, buf, n) {
        const t0 = now();
        for (let i = 0; i < n; i++) {
          must((await dsPublishMap(p, 'b.map', buf, PAGE)) === OK, 'publish_map');
          must((await dsRetrieveMap(p, 'b.map', buf + PAGE, PAGE, 0, DSMF_COPY_MAPPED)).result === OK, 'COPY_MAPPED');
          must((await dsDeleteMap(p, 'b.map')) === OK, 'delete_map');
        }
        return now() - t0;
      },
      host(n) {
        // Publishing a map shares the page (a view, no copy); COPY_MAPPED copies it out; delete drops it.
        const m = new Map<string, Uint8Array>();
        const t0 = now();
        for (let i = 0; i < n; i++) {
          m.set('b.map', page.subarray(0, PAGE));
          out.set(m.get('b.map') ?? page);
          m.delete('b.map');
          sink += out[0] ?? 0;
        }
        return now() - t0;
      },
    },
    {
      name: 'MAP live: store in published page + COPY_MAPPED',
      n: 1500,
      async model(p, buf, n) {
        must((await dsPublishMap(p, 'b.live', buf + 2 * PAGE, PAGE)) === OK, 'publish_map live');
        const t0 = now();
        for (let i = 0; i < n; i++) {
          await p.writeU32(buf + 2 * PAGE, i);
          must((await dsRetrieveMap(p, 'b.live', buf + 3 * PAGE, PAGE, 0, DSMF_COPY_MAPPED)).result === OK, 'COPY_MAPPED live');
        }
        const t = now() - t0;
        must((await p.readU32(buf + 3 * PAGE)) === n - 1, 'COPY_MAPPED sees the live store');
        must((await dsDeleteMap(p, 'b.live')) === OK, 'delete_map live');
        return t;
      },
      host(n) {
        const m = new Map<string, Uint8Array>([['b.live', page]]);
        const t0 = now();
        for (let i = 0; i < n; i++) {
          page32[0] = i;
          out.set(m.get('b.live') ?? page);
          sink += out[0] ?? 0;
        }
        return now() - t0;
      },
    },
  ];
}

async function roundTripBench(rounds: number): Promise<BenchResult[]> {
  const sys = await boot();
  const w = await worker(sys, 'dsbench');
  const results: BenchResult[] = [];
  const HOST_N = 200_000;
  for (const rt of roundTrips()) {
    // Warm-up of both sides, then interleaved rounds.
    await w.do((p, b) => rt.model(p, b, Math.ceil(rt.n / 4)));
    rt.host(HOST_N);
    const host = `${rt.name}: host Map/TypedArray (baseline)`;
    const r = new Rounds();
    for (let round = 0; round < rounds; round++) {
      r.add(host, (rt.host(HOST_N) * 1e6) / HOST_N);
      r.add(rt.name, ((await w.do((p, b) => rt.model(p, b, rt.n))) * 1e6) / rt.n);
    }
    const model = r.result(rt.name, { baseline: host });
    results.push(r.result(host), { ...model, name: `${rt.name}: DS round trip (${Math.round(1e9 / model.nsPerOp)}/s)` });
  }
  return results;
}

// ---------------------------------------------------------------- 2. subscription fan-out

const FANOUT = [1, 4, 16] as const;
const FAN_SUBSCRIBERS = 16;

/** Host counterpart: n async subscribers woken per publish, each draining its pending set from a Map. */
async function hostFanoutMs(n: number, publishes: number): Promise<number> {
  const store = new Map<string, number>();
  const wake: ((v: boolean) => void)[] = new Array<(v: boolean) => void>(n);
  const pending: Set<string>[] = Array.from({ length: n }, () => new Set<string>());
  let left = 0;
  let allDone: () => void = () => undefined;
  const subs = Array.from({ length: n }, async (_, i) => {
    for (;;) {
      const go = await new Promise<boolean>((r) => (wake[i] = r));
      if (!go) return;
      const mine = pending[i] ?? new Set<string>();
      for (const k of mine) {
        sink += store.get(k) ?? 0;
        mine.delete(k);
      }
      if (--left === 0) allDone();
    }
  });
  await Promise.resolve();
  const t0 = now();
  for (let j = 0; j < publishes; j++) {
    store.set('fan', j);
    left = n;
    const done = new Promise<void>((r) => (allDone = r));
    for (let i = 0; i < n; i++) {
      pending[i]?.add('fan');
      wake[i]?.(true);
    }
    await done;
  }
  const t = now() - t0;
  for (let i = 0; i < n; i++) wake[i]?.(false);
  await Promise.all(subs);
  return t;
}

/** Host counterpart of a publish nobody subscribed to: a Map set; ns per set. */
function hostSetNs(n: number): number {
  const store = new Map<string, number>();
  const t0 = now();
  for (let j = 0; j < n; j++) store.set('fan', j);
  sink += store.get('fan') ?? 0;
  return ((now() - t0) * 1e6) / n;
}

async function fanoutBench(rounds: number): Promise<BenchResult[]> {
  const sys = await boot();
  // Subscriber i hears of fan.N for every N > i (fan.0 has no subscriber): one system serves every N.
  const seen = new Array<number>(FAN_SUBSCRIBERS).fill(0);
  for (let i = 0; i < FAN_SUBSCRIBERS; i++) {
    const groups = FANOUT.filter((n) => i < n).join('|');
    await startService(sys, `sub${i}`, async (p) => {
      must((await dsSubscribe(p, `fan\\.(${groups})`)) === OK, 'subscribe');
      for (;;) {
        const m = await p.receive();
        if (m.source !== DS_PROC_NR) continue;
        for (let c = await dsCheck(p); c.result !== ENOENT; c = await dsCheck(p)) {
          must(c.result === OK, 'ds_check');
          seen[i] = (seen[i] ?? 0) + 1;
        }
      }
    });
  }
  const pub = await worker(sys, 'publisher');
  const publishModelMs = async (n: number, publishes: number): Promise<number> => {
    const before = seen.reduce((a, b) => a + b, 0);
    let t = 0;
    for (let j = 0; j < publishes; j++) {
      const t0 = now();
      await pub.do(async (p) => must((await dsPublishU32(p, `fan.${n}`, j, DSF_OVERWRITE)) === OK, 'publish'));
      t += now() - t0;
    }
    must(seen.reduce((a, b) => a + b, 0) - before === n * publishes, `every subscriber of fan.${n} saw every publish`);
    return t;
  };
  const out: BenchResult[] = [];
  const publishes = 150;
  for (const n of [0, ...FANOUT]) {
    await publishModelMs(n, 20);
    await hostFanoutMs(Math.max(n, 1), 1000);
  }
  const ZERO_HOST = 'N=0: host Map set, nobody to wake (baseline, per publish)';
  const ZERO = 'N=0: publish_u32, no subscriber (per publish)';
  const host = (n: number): string => `N=${n}: host async subscriber wake + Map get (baseline, per subscriber)`;
  const model = (n: number): string => `N=${n}: publish → N× notify + ds_check to ENOENT (per subscriber)`;
  const marginal = (n: number): string => `N=${n}: same, minus the 0-subscriber publish (marginal per subscriber)`;
  const r = new Rounds();
  for (let round = 0; round < rounds; round++) {
    r.add(ZERO_HOST, hostSetNs(200_000));
    const zero = ((await publishModelMs(0, publishes)) * 1e6) / publishes;
    r.add(ZERO, zero);
    for (const n of FANOUT) {
      r.add(host(n), ((await hostFanoutMs(n, 20_000)) * 1e6) / 20_000 / n);
      const perPublish = ((await publishModelMs(n, publishes)) * 1e6) / publishes;
      r.add(model(n), perPublish / n);
      r.add(marginal(n), (perPublish - zero) / n);
    }
  }
  out.push(r.result(ZERO_HOST), r.result(ZERO, { baseline: ZERO_HOST }));
  for (const n of FANOUT)
    out.push(r.result(host(n)), r.result(model(n), { baseline: host(n) }), r.result(marginal(n), { baseline: host(n) }));
  return out;
}

// ---------------------------------------------------------------- 3. restart

interface Mark {
  step: number;
  ms: number;
  restarts: number;
}

/**
 * The stateful service: recovers counter (U32), table (MEM) and ring (COPY_MAPPED of ring.<gen>) from DS,
 * republishes the ring as generation gen+1, publishes gen, deletes the old ring, marks; then waits for the host and
 * recovers again (the no-kill baseline). The first instance publishes the initial state.
 */
function kvService(marks: Mark[], instance: { restarts: number }): Program {
  return async (p) => {
    const buf = await vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PRIVATE);
    const ring = buf + PAGE;
    const io = buf + 2 * PAGE;
    const me = instance.restarts++;
    if ((await dsRetrieveU32(p, 'kv.n')).result !== OK) {
      const table = new TextEncoder().encode(JSON.stringify({ k0: 100, k1: 101, k2: 102, note: 'x'.repeat(200) }));
      await p.write(io, table);
      must((await dsPublishMem(p, 'kv.data', io, table.length)) === OK, 'initial table');
      for (let i = 0; i < 4; i++) await p.writeU32(ring + 4 * i, 100 + i);
      must((await dsPublishMap(p, 'ring.1', ring, PAGE)) === OK, 'initial ring');
      must((await dsPublishU32(p, 'kv.gen', 1)) === OK, 'initial gen');
      must((await dsPublishU32(p, 'kv.n', 5)) === OK, 'initial counter');
    }
    for (;;) {
      const n = await dsRetrieveU32(p, 'kv.n');
      must(n.result === OK && n.value === 5, 'recover counter');
      const m = await dsRetrieveMem(p, 'kv.data', io, PAGE);
      must(m.result === OK, 'recover table');
      const table = JSON.parse(new TextDecoder().decode(await p.read(io, m.len))) as Record<string, number>;
      must(table.k2 === 102, 'table contents');
      const gen = (await dsRetrieveU32(p, 'kv.gen')).value;
      must((await dsRetrieveMap(p, `ring.${gen}`, ring, PAGE, 0, DSMF_COPY_MAPPED)).result === OK, 'recover ring');
      must((await p.readU32(ring + 12)) === 103, 'ring contents');
      const stale = await dsDeleteMap(p, `ring.${gen + 1}`);
      must(stale === OK || stale === ESRCH, 'delete stale ring');
      must((await dsPublishMap(p, `ring.${gen + 1}`, ring, PAGE)) === OK, 'republish ring');
      must((await dsPublishU32(p, 'kv.gen', gen + 1, DSF_OVERWRITE)) === OK, 'publish gen');
      must((await dsDeleteMap(p, `ring.${gen}`)) === OK, 'delete old ring');
      marks.push({ step: p.kernel.step, ms: now(), restarts: me });
      await p.receive(KERNEL);
    }
  };
}

async function restartBench(restarts: number): Promise<BenchResult[]> {
  const sys = await boot();
  const marks: Mark[] = [];
  const instance = { restarts: 0 };
  await startService(sys, 'kv', kvService(marks, instance), restarts + 10);
  must(marks.length === 1, 'kv recovered at start');
  const kill: { steps: number; ms: number }[] = [];
  const again: { steps: number; ms: number }[] = [];
  const measure = async (act: () => void, into: { steps: number; ms: number }[]): Promise<void> => {
    const before = marks.length;
    const step0 = sys.kernel.step;
    const t0 = now();
    act();
    await sys.run({ until: () => marks.length > before });
    const m = marks.at(-1);
    must(m !== undefined && marks.length === before + 1, 'recovered once');
    if (m !== undefined) into.push({ steps: m.step - step0, ms: m.ms - t0 });
    await sys.run();
    must(sys.panicked === null, `panic ${sys.panicked?.message ?? ''}`);
  };
  const kvEp = (): number => sys.rs.services.get('kv')?.endpoint ?? -1;
  for (let i = 0; i < restarts; i++) {
    await measure(() => poke(sys, kvEp()), again);
    const ep = kvEp();
    await measure(() => must(sys.kill(ep), 'kill'), kill);
    must(kvEp() !== ep && sys.rs.services.get('kv')?.restarts === i + 1, 'RS restarted kv under a new endpoint');
  }
  // The first few of each are warm-up (JIT).
  const warm = Math.min(3, restarts - 1);
  const r = new Rounds();
  const steps = (xs: { steps: number; ms: number }[], key: string): string => {
    const rest = xs.slice(warm);
    for (const x of rest) r.add(key, x.ms * 1e6);
    const s = [...new Set(rest.map((x) => x.steps))].sort((a, b) => a - b);
    return s.length === 1 ? `${s[0]} steps` : `${s[0]}–${s.at(-1)} steps`;
  };
  const a = steps(again, 'again');
  const k = steps(kill, 'kill');
  // Each restart is a round; the kill and the re-run before it pair up.
  return [
    r.result('again', { name: `recovery re-run by the live instance, no kill (baseline; ${a})` }),
    r.result('kill', { name: `kill → RS restart → state recovered and ring republished (${k})`, baseline: 'again' }),
  ];
}

/** Restart step counts, for the report: kill → recovered, per restart (deterministic). */
export async function dsRestartSteps(restarts = 5): Promise<{ kill: number[]; rerun: number[] }> {
  const sys = await boot();
  const marks: Mark[] = [];
  await startService(sys, 'kv', kvService(marks, { restarts: 0 }), restarts + 10);
  const kill: number[] = [];
  const rerun: number[] = [];
  for (let i = 0; i < restarts; i++) {
    for (const [act, into] of [
      [() => poke(sys, sys.rs.services.get('kv')?.endpoint ?? -1), rerun],
      [() => sys.kill(sys.rs.services.get('kv')?.endpoint ?? -1), kill],
    ] as const) {
      const before = marks.length;
      const s0 = sys.kernel.step;
      act();
      await sys.run({ until: () => marks.length > before });
      into.push((marks.at(-1)?.step ?? Number.NaN) - s0);
      await sys.run();
    }
  }
  return { kill, rerun };
}

/** `rounds`: rounds of the round-trip and fan-out parts (the restart part always does 30 restarts). */
export async function runDsBench(rounds = 5, progress?: Progress): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  out.push(...(await roundTripBench(rounds)));
  progress?.(1, 3);
  out.push(...(await fanoutBench(rounds)));
  progress?.(2, 3);
  out.push(...(await restartBench(30)));
  progress?.(3, 3);
  if (sink === 0.5) console.log(sink); // keeps the host loops' results alive
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv.slice(2);
  const t0 = now();
  if (which.includes('steps')) console.log(await dsRestartSteps());
  else printResults('DS', await runDsBench());
  console.log(`(${((now() - t0) / 1000).toFixed(1)} s)`);
}
