// Fault injection (issue 8): a campaign that kills one chosen process of the fault workload (src/user/faultload.ts
// plus the kv service) at one chosen kernel step per run, through System.breakpoint, runs the system to completion
// and classifies the outcome in the fault-injection format — injected / activated / detected / recovered / hung /
// state lost — per target and kill point (what the target was doing at that step). After each run it checks the
// sanity checkers, leaks against a fault-free reference run, acknowledged DS state, that grants of and to the dead
// endpoint fail, and that label subscribers were told. Entry points: runFaultCampaign, injectFault, killPoint,
// isDefect, tabulate, FAULT_TARGETS, FaultReport.
import { DS_RETRIEVE, DS_RETRIEVE_LABEL, DS_PUBLISH, DS_CHECK } from '../include/ds.ts';
import { DS_PROC_NR, PM_PROC_NR, VM_PROC_NR, CLOCK } from '../include/endpoint.ts';
import { EINVAL, EPERM, SIGKILL, errnoName } from '../include/errno.ts';
import { PM_EXEC, PM_EXIT, PM_FORK, PM_WAIT, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../include/com.ts';
import { DEFAULT_SERVICE_SPEC } from '../include/priv.ts';
import { RTS } from '../kernel/proc.ts';
import type { KProc } from '../kernel/proc.ts';
import { Panic } from '../lib/assert.ts';
import { Rng } from '../lib/rng.ts';
import type { Program } from '../libsys/proc.ts';
import {
  FAULT_ROUNDS,
  deadEndpointProber,
  driverService,
  grantorService,
  mapperService,
  newFaultJournal,
  vmClient,
  watcherService,
} from '../user/faultload.ts';
import type { DeadProbe, FaultJournal } from '../user/faultload.ts';
import { KV_OPS, KV_RING, kvReader, kvService } from '../user/kvservice.ts';
import type { KvJournal } from '../user/kvservice.ts';
import type { RProc } from '../servers/rs/main.ts';
import { GRANT_TEST_PRIV } from '../user/safetest.ts';
import type { SystemConfig } from './config.ts';
import { createSystem } from './system.ts';
import { trackOf } from './trace.ts';
import type { SpawnHandle, System } from './system.ts';

export const FAULT_TARGETS = ['user', 'grantor', 'driver', 'mapper', 'kv', 'ds'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/** The services of the workload, by label, and the ones a kill of which RS repairs. */
const SERVICES = ['watcher', 'driver', 'mapper', 'grantor', 'kv'] as const;
const RESTARTED: readonly string[] = ['driver', 'mapper', 'grantor', 'kv'];
/** Services that answer FL_PROBE, so a grant to their dead predecessor can be tried by the successor. */
const PROBE_SERVERS: readonly string[] = ['driver', 'mapper'];
/** A run may take this many times the reference run's steps before it counts as hung. */
const HANG_FACTOR = 4;

export interface FaultOptions {
  seed?: number;
  targets?: readonly FaultTarget[];
  /** Kill points per target: one step drawn (from the seed) in each of `points` equal slices of its active steps. */
  points?: number;
  /** Kill each target at every step it is active instead of at `points` sampled steps. */
  everyStep?: boolean;
  /** The signal of the kill (default SIGKILL; RS restarts a service that dies by any signal). */
  signal?: number;
  /** Config on top of the campaign's (sanity 'top'). */
  config?: Partial<SystemConfig>;
  /** Called after every injection run (the CLI's progress bar). */
  progress?: (done: number, total: number) => void;
}

/** The outcome of one injection. */
export interface Injection {
  target: FaultTarget;
  step: number;
  /** What the target was doing at the step (killPoint), or 'not alive'. */
  point: string;
  /** The endpoint killed (null if the target was not alive). */
  killed: number | null;
  activated: boolean;
  /** How the system noticed: 'RS restart', 'parent wait', 'panic', or null. */
  detected: string | null;
  recovered: boolean;
  hung: boolean;
  stateLost: boolean;
  /** What of the acknowledged state was lost or wrong (empty when intact). */
  lost: string[];
  /** Failed post-run checks: sanity, leaks, dead-endpoint grants, subscribers; empty when all hold. */
  problems: string[];
}

/** A defective outcome: a failed check, a hang, or acknowledged state lost other than by a DS kill. */
export const isDefect = (i: Injection): boolean =>
  i.problems.length > 0 || i.hung || (i.stateLost && i.target !== 'ds');

export interface FaultRow {
  target: string;
  point: string;
  injected: number;
  activated: number;
  detected: number;
  recovered: number;
  hung: number;
  stateLost: number;
  /** Injections with a failed post-run check. */
  checksFailed: number;
}

export interface FaultReport {
  seed: number;
  /** Kill points per target, or 'every step'. */
  points: number | 'every step';
  signal: number;
  /** The fault-free reference run: first and last step of the workload. */
  reference: { start: number; end: number };
  injections: Injection[];
  rows: FaultRow[];
}

/** What a fresh system ends with once the workload has run and every service is down: the leak baseline. */
interface Resources {
  poolPages: number;
  dsEntries: number;
  dsSubscriptions: number;
  mappings: number;
  grants: number;
  processes: number;
}

function resources(sys: System): Resources {
  const s = sys.inspect();
  return {
    poolPages: s.vm.memory.freePages + s.vm.memory.internalPages,
    dsEntries: s.ds.entries.length,
    dsSubscriptions: s.ds.subscriptions.length,
    mappings: s.mappings.length,
    grants: s.grants.length,
    processes: s.processes.length,
  };
}

interface World {
  sys: System;
  j: FaultJournal;
  kv: KvJournal;
  client: SpawnHandle;
  start: number;
}

/**
 * Boots a system and starts the workload (nothing has run yet past boot). VM checks itself after every request
 * incrementally (what the request changed, as under the fuzzer), and in full after the run (the callers'
 * sanityCheck), where the rules about all of memory and the slab see what a kill left wrong: the full check after
 * every request was a quarter of a campaign's time.
 */
async function startWorld(config: Partial<SystemConfig>): Promise<World> {
  const sys = await createSystem({ sanity: 'top', ...config });
  sys.vm.trackChanges();
  const j = newFaultJournal();
  const kv: KvJournal = { acked: [], recovered: [], failures: [] };
  const programs: Record<(typeof SERVICES)[number], Program> = {
    watcher: watcherService(j, 'grantor|driver|mapper|kv'),
    driver: driverService(),
    mapper: mapperService(),
    grantor: grantorService(j),
    kv: kvService(kv),
  };
  for (const label of SERVICES) {
    const priv = label === 'kv' ? DEFAULT_SERVICE_SPEC : GRANT_TEST_PRIV;
    sys.startService({
      label,
      program: programs[label],
      priv,
      restart: { maxRestarts: RESTARTED.includes(label) ? 3 : 0 },
    });
  }
  const client = sys.spawn(vmClient(), { name: 'vmclient' });
  return { sys, j, kv, client, start: sys.kernel.step };
}

const finished = (w: World): boolean =>
  w.client.exit !== null && ['grantor', 'kv'].every((l) => w.sys.rs.services.get(l)?.status !== 'running');

/** The last message type `ep` sent to `to` (from the trace): what it waits on `to` for. */
function lastRequest(sys: System, ep: number, to: number): number | null {
  for (let i = sys.trace.length - 1; i >= 0; i--) {
    const e = sys.trace[i];
    if (e !== undefined && e.kind === 'ipc' && e.op === 'send' && e.from === ep && e.to === to)
      return e.mtype;
  }
  return null;
}

const PM_POINTS: Record<number, string> = {
  [PM_FORK]: 'mid-fork',
  [PM_EXEC]: 'mid-exec',
  [PM_WAIT]: 'in wait',
  [PM_EXIT]: 'mid-exit',
};
const DS_POINTS: Record<number, string> = {
  [DS_PUBLISH]: 'mid-publish',
  [DS_RETRIEVE]: 'mid-retrieve',
  [DS_RETRIEVE_LABEL]: 'mid-retrieve',
  [DS_CHECK]: 'mid-DS check',
};

/** What process `p` is doing at this step, from its kernel state and the trace (the kill point of an injection). */
export function killPoint(sys: System, p: KProc): string {
  const k = sys.kernel;
  if ((p.rts & RTS.VMREQUEST) !== 0) {
    const r = k.vmRequests.inProgress.get(p) ?? k.vmRequests.waiting.find((x) => x.requestor === p);
    return r !== undefined && (r.reqType === VMPTYPE_SMAP || r.reqType === VMPTYPE_SUNMAP)
      ? 'mid-safemap'
      : 'mid-safecopy';
  }
  if ((p.rts & RTS.PAGEFAULT) !== 0)
    return p.fault?.present === true && p.fault.write ? 'mid-COW fault' : 'mid-page fault';
  if (p.vmHolds > 0) return 'held by a VM request';
  const peer = p.replyFrom ?? ((p.rts & RTS.SENDING) !== 0 ? p.sendTo : null);
  if (peer !== null) {
    const mtype = lastRequest(sys, p.endpoint, peer) ?? -1;
    if (peer === PM_PROC_NR) return PM_POINTS[mtype] ?? 'mid-PM call';
    if (peer === DS_PROC_NR) return DS_POINTS[mtype] ?? 'mid-DS call';
    if (peer === VM_PROC_NR) return 'mid-VM call';
    return 'awaiting a peer';
  }
  if ((p.rts & RTS.RECEIVING) !== 0) return p.recvFrom === CLOCK ? 'sleeping' : 'idle (receive)';
  return p.rts === 0 ? `running ${lastDone(sys, p.endpoint)}` : 'blocked';
}

/** What a running process did last (its latest trace event): the point in its code it is at. */
function lastDone(sys: System, ep: number): string {
  for (let i = sys.trace.length - 1; i >= 0; i--) {
    const e = sys.trace[i];
    if (e === undefined || trackOf(e) !== ep) continue;
    if (e.kind === 'kcall') return `(after ${e.call})`;
    if (e.kind === 'fault') return '(after a page fault)';
    if (e.kind === 'vmreq')
      return e.reqType === VMPTYPE_SMAP || e.reqType === VMPTYPE_SUNMAP
        ? '(mid-safemap, VM answered)'
        : '(mid-safecopy, VM answered)';
    if (e.kind === 'vm' || e.kind === 'ds') return `(after ${e.kind.toUpperCase()} ${e.op})`;
    if (e.kind === 'proc' || e.kind === 'ipc') return `(after ${e.op})`;
    return `(after ${e.kind})`;
  }
  return '(from start)';
}

/** The process a target names at this moment (the busiest VM client for 'user'), or null. */
function targetProc(w: World, target: FaultTarget): KProc | null {
  const k = w.sys.kernel;
  if (target === 'ds') return k.liveProc(DS_PROC_NR);
  if (target !== 'user') {
    const rp = w.sys.rs.services.get(target);
    return rp === undefined || rp.status !== 'running' ? null : k.liveProc(rp.endpoint);
  }
  const clients = k.procs.filter((p) => p.inUse && p.name.startsWith('vmclient'));
  return clients.find((p) => killPoint(w.sys, p) !== 'in wait') ?? clients[0] ?? null;
}

/** Runs the workload to completion within `cap` steps; false if it hung (cap reached, or idle unfinished). */
async function runToEnd(w: World, cap: number): Promise<boolean> {
  await w.sys.run({ maxSteps: cap, until: () => finished(w) });
  if (!finished(w)) return false;
  await w.sys.run({ maxSteps: cap });
  return true;
}

/** The kv state every run must end with: the table and the ring window after all KV_OPS. */
const KV_FINAL = {
  table: JSON.stringify(Object.fromEntries(KV_OPS.map((op) => [op.key, op.value]))),
  // Ring slot i holds the last value written at an operation number ≡ i (mod KV_RING).
  ring: Array.from(
    { length: KV_RING },
    (_, i) => KV_OPS.filter((_op, n) => n % KV_RING === i).at(-1)?.value ?? 0,
  ).join(),
};

/** Subscribers are told: the watcher saw the label move to an instance started after the killed one. */
function subscriberUntold(w: World, dead: number, rp: RProc): string | null {
  const deathAt = rp.deaths.findIndex((d) => d.endpoint === dead);
  if (deathAt < 0 || rp.restarts === 0) return null;
  const later = [...rp.deaths.slice(deathAt + 1).map((d) => d.endpoint), rp.endpoint].filter(
    (e) => e !== dead,
  );
  const seen = w.j.labels.filter((l) => l.key === rp.record.label).map((l) => l.endpoint);
  return later.some((e) => seen.includes(e))
    ? null
    : `watcher was not told of ${rp.record.label}'s restart (saw ${seen.join(', ')})`;
}

interface Verdict {
  lost: string[];
  problems: string[];
}

/** Reads the acknowledged state back and probes the dead endpoint; then takes every service down. */
async function verifyAndTeardown(
  w: World,
  killed: { ep: number; label: string | null } | null,
): Promise<Verdict> {
  const { sys } = w;
  const problems: string[] = [];
  const lost: string[] = [];
  const kvOut = { n: 0, table: '', ring: [] as number[] };
  const probes: DeadProbe[] = [];
  const round = { value: -1 };
  const successor =
    killed?.label !== null && killed?.label !== undefined
      ? (sys.rs.services.get(killed.label) ?? null)
      : null;
  const probeVia =
    successor !== null && successor.status === 'running' && PROBE_SERVERS.includes(successor.record.label)
      ? successor.endpoint
      : null;
  sys.startService({
    label: 'reader',
    program: kvReader(kvOut),
    priv: DEFAULT_SERVICE_SPEC,
    restart: { maxRestarts: 0 },
  });
  const targets = killed === null ? [] : [{ dead: killed.ep, successor: probeVia }];
  sys.startService({
    label: 'prober',
    program: deadEndpointProber(targets, probes, round),
    priv: GRANT_TEST_PRIV,
    restart: { maxRestarts: 0 },
  });
  await sys.run();
  const kvIntact =
    kvOut.n === KV_OPS.length &&
    kvOut.table === KV_FINAL.table &&
    kvOut.ring.join() === KV_FINAL.ring &&
    w.kv.failures.length === 0;
  const grantorIntact = round.value === FAULT_ROUNDS && w.j.failures.length === 0;
  if (!kvIntact)
    lost.push(`kv: n=${kvOut.n} table=${kvOut.table} ring=${kvOut.ring.join()} ${w.kv.failures.join('; ')}`);
  if (!grantorIntact) lost.push(`grantor: round=${round.value} ${w.j.failures.join('; ')}`);
  for (const pr of probes) {
    if (pr.asGranter !== EINVAL)
      problems.push(`safecopy from dead ${pr.dead}: ${errnoName(pr.asGranter)}, expected EINVAL`);
    if (pr.viaSuccessor !== null && pr.viaSuccessor !== EPERM)
      problems.push(
        `grant to dead ${pr.dead} used by its successor: ${errnoName(pr.viaSuccessor)}, expected EPERM`,
      );
  }
  const untold =
    killed?.label != null && successor !== null ? subscriberUntold(w, killed.ep, successor) : null;
  if (untold !== null) problems.push(untold);
  for (const label of [...SERVICES, 'reader', 'prober']) sys.stopService(label);
  await sys.run();
  return { lost, problems };
}

/** What the fault-free run tells the injections: the leak baseline, the workload's span, each target's active steps. */
export interface Reference {
  /** Resources once the workload has run and every service is down. */
  base: Resources;
  /** The step at which the workload started. */
  start: number;
  /** The step at which it ended. */
  end: number;
  /** Per target, the steps of the workload at which its process had a trace event (it was doing something). */
  active: Map<FaultTarget, number[]>;
}

/** Which target a process of the fault-free run is (endpoints are fixed there: nothing restarts). */
function targetOfEndpoints(w: World): Map<number, FaultTarget> {
  const m = new Map<number, FaultTarget>([[DS_PROC_NR, 'ds']]);
  for (const t of FAULT_TARGETS) {
    const rp = w.sys.rs.services.get(t);
    if (rp !== undefined) m.set(rp.endpoint, t);
  }
  for (const e of w.sys.trace) if (e.kind === 'proc' && e.name.startsWith('vmclient')) m.set(e.ep, 'user');
  return m;
}

/** Reference resources, the workload's span and each target's active steps, from a fault-free run (plain data). */
async function referenceRun(config: Partial<SystemConfig>): Promise<Reference> {
  const w = await startWorld(config);
  const boot = resources(w.sys);
  if (!(await runToEnd(w, Number.POSITIVE_INFINITY)))
    throw new Error('faults: the fault-free workload did not finish');
  const end = w.sys.kernel.step;
  const who = targetOfEndpoints(w);
  const active = new Map<FaultTarget, number[]>(FAULT_TARGETS.map((t) => [t, []]));
  for (const e of w.sys.trace) {
    const t = e.step > w.start && e.step < end ? who.get(trackOf(e)) : undefined;
    const steps = t === undefined ? undefined : active.get(t);
    if (steps !== undefined && steps.at(-1) !== e.step) steps.push(e.step);
  }
  const v = await verifyAndTeardown(w, null);
  if (v.problems.length > 0 || v.lost.length > 0 || w.client.exit?.code !== 0)
    throw new Error(`faults: the fault-free workload failed: ${[...v.lost, ...v.problems].join('; ')}`);
  w.sys.sanityCheck();
  // Against the boot baseline everything must be back but VM's own pages (page tables of new slots, slab) and the
  // scratch pages DS and RS keep once they have served a request.
  const base = resources(w.sys);
  const leaks = compareResources({ ...boot, poolPages: base.poolPages }, base);
  if (leaks.length > 0) throw new Error(`faults: the fault-free workload leaks: ${leaks.join('; ')}`);
  return { base, start: w.start, end, active };
}

function compareResources(base: Resources, now: Resources): string[] {
  const out: string[] = [];
  for (const key of Object.keys(base) as (keyof Resources)[]) {
    if (base[key] !== now[key]) out.push(`leak: ${key} ${base[key]} → ${now[key]}`);
  }
  return out;
}

/** One injection: a fresh system, the workload, `target` killed with `signal` at kernel step `step`. */
export async function injectFault(
  target: FaultTarget,
  step: number,
  ref: Reference,
  o: { signal?: number; config?: Partial<SystemConfig> } = {},
): Promise<Injection> {
  const w = await startWorld(o.config ?? {});
  const inj: Injection = {
    target,
    step,
    point: 'not reached',
    killed: null,
    activated: false,
    detected: null,
    recovered: false,
    hung: false,
    stateLost: false,
    lost: [],
    problems: [],
  };
  w.sys.breakpoint = {
    step,
    hit: (sys) => {
      const p = targetProc(w, target);
      inj.point = p === null ? 'not alive' : killPoint(sys, p);
      if (p !== null && sys.kill(p.endpoint, o.signal ?? SIGKILL)) {
        inj.killed = p.endpoint;
        inj.activated = true;
      }
    },
  };
  try {
    inj.hung = !(await runToEnd(w, HANG_FACTOR * (ref.end - ref.start)));
    inj.detected = detection(w, inj);
    if (inj.hung) {
      w.sys.sanityCheck();
      return inj;
    }
    const label = target === 'user' || target === 'ds' ? null : target;
    const v = await verifyAndTeardown(w, inj.killed === null ? null : { ep: inj.killed, label });
    w.sys.sanityCheck();
    inj.problems = [...v.problems, ...compareResources(ref.base, resources(w.sys))];
    inj.lost = v.lost;
    inj.stateLost = v.lost.length > 0;
    inj.recovered = !inj.stateLost && w.client.exit?.code === 0 && w.client.exit.signal === 0;
  } catch (err) {
    if (!(err instanceof Panic)) throw err;
    inj.detected = 'panic';
    inj.stateLost = true;
    inj.lost.push(`everything DS held: ${err.message}`);
    if (target !== 'ds') inj.problems.push(`panic: ${err.message}`);
  }
  return inj;
}

/** How the system noticed the kill: RS restarted the service, PM reported the death to a waiting parent. */
function detection(w: World, inj: Injection): string | null {
  if (inj.killed === null) return null;
  const ep = inj.killed;
  if (
    [...w.sys.rs.services.values()].some((rp) => rp.restarts > 0 && rp.deaths.some((d) => d.endpoint === ep))
  )
    return 'RS restart';
  if (w.sys.exits.some((x) => x.endpoint === ep && x.signal !== 0)) return 'parent wait';
  return null;
}

/**
 * The injection steps of a target: one per slice of the steps at which it was active in the reference run (of
 * the whole span if it never was), at a seeded place inside the slice; so kills land mostly mid-operation.
 */
function killSteps(rng: Rng, points: number, ref: Reference, target: FaultTarget): number[] {
  const pool = everyActiveStep(ref, target);
  const steps = Array.from(
    { length: points },
    (_, i) => pool[Math.floor(((i + rng.int(1000) / 1000) * pool.length) / points)] ?? ref.end,
  );
  return [...new Set(steps)];
}

/** Rows per (target, kill point), then one total row per target and a grand total. */
export function tabulate(injections: readonly Injection[]): FaultRow[] {
  const rows = new Map<string, FaultRow>();
  const add = (target: string, point: string, i: Injection): void => {
    const key = `${target}\u0000${point}`;
    const r = rows.get(key) ?? {
      target,
      point,
      injected: 0,
      activated: 0,
      detected: 0,
      recovered: 0,
      hung: 0,
      stateLost: 0,
      checksFailed: 0,
    };
    r.injected++;
    if (i.activated) r.activated++;
    if (i.detected !== null) r.detected++;
    if (i.recovered) r.recovered++;
    if (i.hung) r.hung++;
    if (i.stateLost) r.stateLost++;
    if (i.problems.length > 0) r.checksFailed++;
    rows.set(key, r);
  };
  const sorted = [...injections].sort(
    (a, b) =>
      FAULT_TARGETS.indexOf(a.target) - FAULT_TARGETS.indexOf(b.target) || a.point.localeCompare(b.point),
  );
  for (const i of sorted) add(i.target, i.point, i);
  for (const i of sorted) add(i.target, 'all', i);
  for (const i of sorted) add('all', 'all', i);
  return [...rows.values()];
}

/** A campaign's plan: the reference run and the injections to make, in report order (plain data, for workers). */
export interface FaultPlan {
  seed: number;
  points: number | 'every step';
  signal: number;
  config: Partial<SystemConfig>;
  ref: Reference;
  injections: { target: FaultTarget; step: number }[];
}

/** The reference run and the kill steps of every target: sampled points, or every step a target is active. */
export async function planFaultCampaign(o: FaultOptions = {}): Promise<FaultPlan> {
  const seed = o.seed ?? 1;
  const points = o.points ?? 20;
  const config = { seed, ...o.config };
  const ref = await referenceRun(config);
  const rng = new Rng(seed);
  const injections = (o.targets ?? FAULT_TARGETS).flatMap((target) =>
    (o.everyStep === true ? everyActiveStep(ref, target) : killSteps(rng, points, ref, target)).map(
      (step) => ({ target, step }),
    ),
  );
  return {
    seed,
    points: o.everyStep === true ? 'every step' : points,
    signal: o.signal ?? SIGKILL,
    config,
    ref,
    injections,
  };
}

/** Every step at which `target` was active in the reference run (every step of the span if it never was). */
function everyActiveStep(ref: Reference, target: FaultTarget): number[] {
  const active = ref.active.get(target) ?? [];
  return active.length > 0
    ? active
    : Array.from({ length: ref.end - ref.start - 1 }, (_, i) => ref.start + 1 + i);
}

/** The injection `index` of a plan. */
export function injectPlanned(plan: FaultPlan, index: number): Promise<Injection> {
  const x = plan.injections[index];
  if (x === undefined) throw new Error(`faults: the plan has no injection ${index}`);
  return injectFault(x.target, x.step, plan.ref, { signal: plan.signal, config: plan.config });
}

/** The report of a plan whose injections (in plan order) have all been made. */
export function faultReport(plan: FaultPlan, injections: Injection[]): FaultReport {
  return {
    seed: plan.seed,
    points: plan.points,
    signal: plan.signal,
    reference: { start: plan.ref.start, end: plan.ref.end },
    injections,
    rows: tabulate(injections),
  };
}

/** The campaign: a reference run, then the planned injections, each on a fresh system with the same seed. */
export async function runFaultCampaign(o: FaultOptions = {}): Promise<FaultReport> {
  const plan = await planFaultCampaign(o);
  const injections: Injection[] = [];
  for (let i = 0; i < plan.injections.length; i++) {
    injections.push(await injectPlanned(plan, i));
    o.progress?.(injections.length, plan.injections.length);
  }
  return faultReport(plan, injections);
}
