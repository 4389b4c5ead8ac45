// Trace output (DESIGN.md §6): JSON Lines, the Chrome trace-event format (one track per process), and a
// stable hash for determinism checks. Entry points: traceHash, toJsonLines, toChromeTrace.
import type { TraceEvent } from '../include/trace.ts';
import { fnv1a } from '../lib/rng.ts';

/** The events as JSON Lines: one JSON object per event and line, each line ending in a newline. */
export function toJsonLines(events: readonly TraceEvent[]): string {
  let out = '';
  for (const e of events) out += `${JSON.stringify(e)}\n`;
  return out;
}

/** JSON.stringify replacer that leaves out the simulated-time fields (`t`, `t0`). */
const untimed = (key: string, value: unknown): unknown => (key === 't' || key === 't0' ? undefined : value);

/**
 * FNV-1a of the JSON Lines text without the simulated-time fields `t` and `t0`, as 8 hex digits: equal
 * behaviour gives equal hashes whatever the cost profile.
 */
export function traceHash(events: readonly TraceEvent[]): string {
  let h = 0x811c9dc5;
  for (const e of events) {
    const json = JSON.stringify(e);
    const end = untimedEnd(json);
    h =
      end < 0
        ? fnv1a(JSON.stringify(e, untimed), h)
        : end === json.length
          ? fnv1a(json, h)
          : fnv1a('}', fnv1a(json, h, end));
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Where the time fields of an event's JSON begin, when they are its last keys (the system puts them there: `t0`
 * in the event, `t` stamped after): the JSON up to there plus '}' is the JSON without them. The length when the
 * event has neither; -1 when one sits elsewhere (a replacer then leaves it out, more slowly). Inside strings every
 * quote is escaped, so `"t":` can only be a key.
 */
function untimedEnd(json: string): number {
  const close = json.length - 1;
  const end = lastKeyAt(json, lastKeyAt(json, close, ',"t":'), ',"t0":');
  if (json.lastIndexOf('"t":', end) >= 0 || json.lastIndexOf('"t0":', end) >= 0) return -1;
  return end === close ? json.length : end;
}

/** Where `key` (with its comma) begins if only its number lies between it and `end`, else `end`. */
function lastKeyAt(json: string, end: number, key: string): number {
  const at = json.lastIndexOf(key, end);
  if (at < 0) return end;
  const quote = json.indexOf('"', at + key.length);
  return quote < 0 || quote > end ? at : end;
}

/** The process an event belongs to (its track in a trace viewer). */
export function trackOf(e: TraceEvent): number {
  switch (e.kind) {
    case 'proc':
    case 'fault':
    case 'signal':
    case 'vm':
      return e.ep;
    case 'ipc':
      return e.from;
    case 'kcall':
    case 'grant':
    case 'ds':
      return e.caller;
    case 'vmreq':
      return e.requestor;
    case 'panic':
      return -1;
  }
}

function nameOf(e: TraceEvent): string {
  switch (e.kind) {
    case 'ipc':
      return `${e.op} ${e.from}→${e.to}`;
    case 'kcall':
      return e.call;
    case 'proc':
    case 'vm':
    case 'vmreq':
    case 'grant':
    case 'ds':
      return `${e.kind} ${e.op}`;
    default:
      return e.kind;
  }
}

/** Simulated time for the Chrome export: the profile's clock rate and the clock's run log (CycleClock.runLog). */
export interface ChromeTiming {
  /** Cycles per microsecond (the profile's clockMHz). */
  clockMHz: number;
  /** [cycle, endpoint] pairs, one per change of running process. */
  runLog?: readonly number[];
}

/** An event's [begin, end] in cycles when it has a duration: kernel calls and IPC from their kernel entry. */
function span(e: TraceEvent, starts: Map<string, number>): [number, number] | null {
  const t = e.t;
  if (t === undefined) return null;
  if ((e.kind === 'kcall' || e.kind === 'ipc') && e.t0 !== undefined) return [e.t0, t];
  if (e.kind === 'fault') starts.set(`pf${e.ep}`, t);
  else if (e.kind === 'vmreq' && e.op === 'post') starts.set(`rq${e.requestor}`, t);
  else if (e.kind === 'vm' && e.op === 'pagefault') return take(starts, `pf${e.ep}`, t);
  else if (e.kind === 'vmreq' && e.op === 'reply') return take(starts, `rq${e.requestor}`, t);
  return null;
}

function take(starts: Map<string, number>, key: string, t: number): [number, number] | null {
  const t0 = starts.get(key);
  starts.delete(key);
  return t0 === undefined ? null : [t0, t];
}

/** One 'running' slice per stretch of the run log: who had the CPU from each switch to the next. */
function runningSlices(log: readonly number[], end: number, us: (c: number) => number): object[] {
  const out: object[] = [];
  for (let i = 0; i + 1 < log.length; i += 2) {
    const from = log[i] ?? 0;
    const to = log[i + 2] ?? end;
    out.push({
      ph: 'X',
      name: 'running',
      cat: 'sched',
      ts: us(from),
      dur: us(Math.max(0, to - from)),
      pid: 1,
      tid: log[i + 1] ?? -1,
    });
  }
  return out;
}

/**
 * Chrome trace-event JSON, one thread per process, named from the process start events. Without `timing`:
 * one instant event per trace event, timestamped by step (1 step = 1 µs). With it: timestamps in simulated µs;
 * kernel calls, IPC, page faults (to VM's answer) and VM requests (post to reply) become complete events with
 * their durations, and a 'running' slice per process shows who had the CPU, so Perfetto shows where simulated
 * time goes.
 */
export function toChromeTrace(events: readonly TraceEvent[], timing?: ChromeTiming): string {
  const out: object[] = [];
  const named = new Set<number>();
  const starts = new Map<string, number>();
  const us = (c: number): number => c / (timing?.clockMHz ?? 1);
  let end = 0;
  for (const e of events) {
    const tid = trackOf(e);
    if (e.kind === 'proc' && (e.op === 'start' || e.op === 'exec') && !named.has(e.ep)) {
      named.add(e.ep);
      out.push({ ph: 'M', name: 'thread_name', pid: 1, tid: e.ep, args: { name: `${e.name} (${e.ep})` } });
    }
    const t = timing !== undefined && e.t !== undefined ? e.t : null;
    if (t === null) {
      out.push({ ph: 'i', s: 't', name: nameOf(e), cat: e.kind, ts: e.step, pid: 1, tid, args: e });
      continue;
    }
    end = Math.max(end, t);
    const d = span(e, starts);
    if (d === null)
      out.push({ ph: 'i', s: 't', name: nameOf(e), cat: e.kind, ts: us(t), pid: 1, tid, args: e });
    else
      out.push({
        ph: 'X',
        name: e.kind === 'vm' ? 'page fault' : nameOf(e),
        cat: e.kind,
        ts: us(d[0]),
        dur: us(d[1] - d[0]),
        pid: 1,
        tid,
        args: e,
      });
  }
  if (timing?.runLog !== undefined) out.push(...runningSlices(timing.runLog, end, us));
  return JSON.stringify({ traceEvents: out, displayTimeUnit: 'ns' });
}
