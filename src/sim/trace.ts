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
  for (const e of events) h = fnv1a(JSON.stringify(e, untimed), h);
  return h.toString(16).padStart(8, '0');
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

/**
 * Chrome trace-event JSON: one instant event per trace event, timestamped by step (1 step = 1 µs), one
 * thread per process, named from the process start events.
 */
export function toChromeTrace(events: readonly TraceEvent[]): string {
  const out: object[] = [];
  const named = new Set<number>();
  for (const e of events) {
    const tid = trackOf(e);
    if (e.kind === 'proc' && (e.op === 'start' || e.op === 'exec') && !named.has(e.ep)) {
      named.add(e.ep);
      out.push({ ph: 'M', name: 'thread_name', pid: 1, tid: e.ep, args: { name: `${e.name} (${e.ep})` } });
    }
    out.push({ ph: 'i', s: 't', name: nameOf(e), cat: e.kind, ts: e.step, pid: 1, tid, args: e });
  }
  return JSON.stringify({ traceEvents: out, displayTimeUnit: 'ns' });
}
