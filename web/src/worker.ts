// The model in a Web Worker: src/sim unchanged (a Session over a built-in or loaded scenario); requests are
// handled one at a time, in order, and each answered with the state at the new position. When no request is
// waiting, the worker prepares checkpoints for fast steps back (Session.prepare), one short slice at a time.
// A listing run reports its progress; the page cancels a run that never ends by terminating the worker.
import { MiB } from '../../src/lib/units.ts';
import type { TraceEvent } from '../../src/include/trace.ts';
import { addressSpaces, frameMap, frameMappings } from '../../src/sim/inspect.ts';
import { scenariosOfModuleExports } from '../../src/sim/scenario.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { builtinScenarios } from '../../src/sim/scenarios.ts';
import { Session, matchesKind } from '../../src/sim/session.ts';
import { EVENT_CHUNK } from './protocol.ts';
import type { Counters, Reply, Request, ViewConfig } from './protocol.ts';

const ctx = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<Request>) => void) | null;
};

const post = (m: Reply, transfer: Transferable[] = []): void => {
  ctx.postMessage(m, transfer);
};

let scenarios: Scenario[] = [...builtinScenarios];
let session: Session | null = null;

/** Prefix counts over the event list: counts[k][i] = events of kind k among the first i. */
/** Indices of the 'grant' events (uses of grants), for the stale-id marks. */
let grantEvents: number[] = [];
let prefix: {
  faults: Uint32Array;
  cowBreaks: Uint32Array;
  copies: Uint32Array;
  grantFailures: Uint32Array;
} | null = null;

function countPrefixes(events: readonly TraceEvent[]): NonNullable<typeof prefix> {
  const n = events.length;
  const p = {
    faults: new Uint32Array(n + 1),
    cowBreaks: new Uint32Array(n + 1),
    copies: new Uint32Array(n + 1),
    grantFailures: new Uint32Array(n + 1),
  };
  for (let i = 0; i < n; i++) {
    const e = events[i];
    if (e === undefined) continue;
    p.faults[i + 1] = (p.faults[i] ?? 0) + (e.kind === 'fault' ? 1 : 0);
    p.cowBreaks[i + 1] = (p.cowBreaks[i] ?? 0) + (matchesKind(e, 'cow-break') ? 1 : 0);
    p.copies[i + 1] =
      (p.copies[i] ?? 0) + (e.kind === 'grant' && e.result >= 0 && e.op.includes('copy') ? 1 : 0);
    p.grantFailures[i + 1] = (p.grantFailures[i] ?? 0) + (e.kind === 'grant' && e.result < 0 ? 1 : 0);
  }
  return p;
}

function sendState(s: Session, tookMs: number): void {
  const sys = s.sys;
  const snap = sys.inspect();
  const seen = s.position.seen;
  const p = prefix;
  const counters: Counters = {
    step: s.position.step,
    micros: snap.time.totalMicros,
    profile: snap.time.profile,
    framesFree: snap.vm.memory.freePages,
    framesUsed: snap.vm.memory.usedPages,
    faults: p?.faults[seen] ?? 0,
    cowBreaks: p?.cowBreaks[seen] ?? 0,
    copies: p?.copies[seen] ?? 0,
    grantFailures: p?.grantFailures[seen] ?? 0,
  };
  const live = new Set(snap.grants.map((g) => `${g.owner}:${g.id}`));
  const stale = new Map<string, { granter: number; gid: number; caller: number; result: number }>();
  for (const i of grantEvents) {
    const e = s.events[i];
    if (i >= seen) break;
    if (e?.kind !== 'grant' || e.op === 'setgrant' || e.gid < 0) continue;
    const key = `${e.granter}:${e.gid}`;
    if (live.has(key)) stale.delete(key);
    else stale.set(key, { granter: e.granter, gid: e.gid, caller: e.caller, result: e.result });
  }
  const frames = frameMap(sys, snap.frameMap);
  post(
    {
      type: 'state',
      state: {
        position: s.position,
        finalStep: s.finalStep,
        replays: s.replays,
        tookMs,
        processes: snap.processes,
        spaces: addressSpaces(sys),
        grants: snap.grants,
        mappings: snap.mappings,
        ds: snap.ds,
        counters,
        clockMHz: sys.clock.profile.clockMHz,
        staleGrants: [...stale.values()].slice(-64),
      },
      frames,
    },
    [frames.buffer],
  );
}

/** Kernel steps between two progress reports of a listing run. */
const PROGRESS_EVERY = 20_000;

/** Opens scenario `name`: lists every event, then stops at the first position, or at the one `step` leads to. */
async function open(name: string, config: ViewConfig, step?: number): Promise<void> {
  const scenario = scenarios.find((x) => x.name === name);
  if (scenario === undefined) throw new Error(`no scenario '${name}'`);
  post({ type: 'busy', what: `listing every event of ${name}…`, cancel: true });
  const t0 = performance.now();
  session = null;
  const s = await Session.open(
    scenario,
    {
      seed: config.seed,
      ramBytes: config.memoryMiB * MiB,
      cowSafecopy: config.cowSafecopy,
      grantIds: config.grantIds,
      sanity: config.sanity,
      profile: config.profile,
      cowBreak: config.cowBreak,
    },
    {
      progress: {
        every: PROGRESS_EVERY,
        at: (step, events) => {
          post({
            type: 'busy',
            what: `listing every event of ${name}: step ${step}, ${events} events, ${Math.round((performance.now() - t0) / 1000)} s…`,
            cancel: true,
          });
        },
      },
    },
  );
  const listMs = performance.now() - t0;
  session = s;
  prefix = countPrefixes(s.events);
  grantEvents = [];
  s.events.forEach((e, i) => {
    if (e.kind === 'grant') grantEvents.push(i);
  });
  post({
    type: 'opened',
    scenario: name,
    title: scenario.title,
    totalEvents: s.events.length,
    finalStep: s.finalStep,
    checks: s.listing.checks,
    error: s.listing.error,
    listMs,
  });
  for (let i = 0; i < s.events.length; i += EVENT_CHUNK)
    post({ type: 'events', from: i, events: s.events.slice(i, i + EVENT_CHUNK) });
  if (step !== undefined) await s.goto(step);
  sendState(s, performance.now() - t0);
}

/** Loads a scenario file and opens its first scenario. */
async function load(url: string, fileName: string, config: ViewConfig): Promise<void> {
  if (/\.(c|m)?tsx?$/.test(fileName)) {
    throw new Error(
      `${fileName}: a TypeScript file cannot run in the browser as it is: compile it to JavaScript first (e.g. npx tsc --module es2022 --target es2022 ${fileName}) and choose the .js file`,
    );
  }
  let module: unknown;
  try {
    module = await import(/* @vite-ignore */ url);
  } catch (err) {
    throw new Error(`${fileName}: cannot load it (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  const got = scenariosOfModuleExports(module);
  if (typeof got === 'string') throw new Error(`${fileName}: ${got}`);
  scenarios = [...scenarios.filter((x) => !got.some((g) => g.name === x.name)), ...got];
  post({ type: 'scenarios', list: scenarios.map((x) => ({ name: x.name, title: x.title })) });
  const first = got[0];
  if (first !== undefined) await open(first.name, config);
}

async function move(s: Session, target: number | null): Promise<void> {
  if (target === null) {
    sendState(s, 0);
    return;
  }
  const back = target < s.position.step;
  if (back) post({ type: 'busy', what: `replaying to step ${target}…` });
  const t0 = performance.now();
  await s.goto(target);
  sendState(s, performance.now() - t0);
}

async function handle(m: Request): Promise<void> {
  if (m.type === 'open') return open(m.scenario, m.config, m.step);
  if (m.type === 'load') return load(m.url, m.fileName, m.config);
  const s = session;
  if (s === null) throw new Error('no scenario open');
  switch (m.type) {
    case 'goto':
      return move(s, m.step);
    case 'next': {
      const last = s.events[Math.min(s.position.seen + m.events - 1, s.events.length - 1)];
      return move(s, last === undefined ? s.finalStep : Math.max(last.step + 1, s.nextPosition()));
    }
    case 'prev':
      return move(s, s.previousPosition());
    case 'nextOf':
      return move(s, s.nextOfKind(m.kind));
    case 'frame':
      post({ type: 'mappings', frame: m.frame, list: frameMappings(s.sys, m.frame) });
      return;
  }
}

let queue: Promise<void> = Promise.resolve();
/** Requests received and not yet handled. */
let waiting = 0;
let idleScheduled = false;

/** Milliseconds without a request before preparing checkpoints (so that playing is not slowed down). */
const QUIET_MS = 150;
let lastRequest = 0;

/** When nothing is waiting, one slice of checkpoint preparation, then again (a timer lets requests in between). */
function idle(): void {
  idleScheduled = false;
  const s = session;
  if (waiting > 0 || s === null) return;
  if (performance.now() - lastRequest < QUIET_MS) {
    scheduleIdle(QUIET_MS);
    return;
  }
  queue = queue
    .then(() => (waiting === 0 && session === s ? s.prepare() : false))
    .then((more) => {
      if (more) scheduleIdle();
      else if (waiting === 0 && session === s) post({ type: 'prepared', step: s.position.step });
    })
    .catch(reportError);
}

function scheduleIdle(ms = 0): void {
  if (idleScheduled) return;
  idleScheduled = true;
  setTimeout(idle, ms);
}

function reportError(err: unknown): void {
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}

ctx.onmessage = (e) => {
  waiting++;
  queue = queue
    .then(() => handle(e.data))
    .catch(reportError)
    .finally(() => {
      waiting--;
      lastRequest = performance.now();
      scheduleIdle(QUIET_MS);
    });
};
post({ type: 'scenarios', list: scenarios.map((x) => ({ name: x.name, title: x.title })) });
