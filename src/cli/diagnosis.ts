// What a failed run's trace says, for the failure report: every panic and every process killed by a signal,
// then the last kernel calls, IPCs, grant operations and VM requests that returned an error; and where a
// program that threw was in its source. The worker computes it next to the run (src/cli/worker.ts).
// Entry points: failureDiagnosis, crashLines.
import { SIGABRT, SIGKILL, SIGSEGV, SIGTERM, errnoName } from '../include/errno.ts';
import type { TraceEvent } from '../include/trace.ts';

/** How many failed calls the failure report lists. */
const LAST_FAILED_CALLS = 5;

/**
 * What the trace says about a failed run: every panic and every process killed by a signal, then (if there was
 * one) the last kernel calls, IPCs, grant operations and VM requests that returned an error, oldest first,
 * each with its process (endpoint and name), its call and the errno name. Empty if nothing panicked or was
 * killed, or if the trace was not kept in memory.
 */
export function failureDiagnosis(trace: readonly TraceEvent[], last = LAST_FAILED_CALLS): string[] {
  const names = new Map<number, string>();
  const incidents: string[] = [];
  for (const e of trace) {
    if (e.kind === 'proc') {
      if (e.op !== 'exit' && e.op !== 'kill') names.set(e.ep, e.name);
      if (e.op === 'kill')
        incidents.push(`step ${e.step}: ${e.name} (${e.ep}) killed by ${signalName(e.status ?? 0)}`);
    } else if (e.kind === 'panic') incidents.push(`step ${e.step}: panic: ${e.message}`);
  }
  if (incidents.length === 0) return [];
  const who = (ep: number): string => `${names.get(ep) ?? '?'} (${ep})`;
  const failed: string[] = [];
  for (let i = trace.length - 1; i >= 0 && failed.length < last; i--) {
    const e = trace[i];
    if (e === undefined) continue;
    const line = failedCall(e, who);
    if (line !== null) failed.push(line);
  }
  const out = [...incidents];
  if (failed.length > 0)
    out.push(
      'last failed calls (kernel calls, IPC, grants, VM requests):',
      ...failed.reverse().map((l) => `  ${l}`),
    );
  else out.push('no kernel call, IPC, grant or VM request failed before it');
  return out;
}

function failedCall(e: TraceEvent, who: (ep: number) => string): string | null {
  switch (e.kind) {
    case 'kcall':
      return e.result < 0 ? `step ${e.step}: ${who(e.caller)} ${e.call} → ${errnoName(e.result)}` : null;
    case 'ipc':
      return e.result < 0
        ? `step ${e.step}: ${who(e.from)} ${e.op} to ${who(e.to)} (type ${e.mtype}) → ${errnoName(e.result)}`
        : null;
    case 'grant':
      return e.result < 0
        ? `step ${e.step}: ${who(e.caller)} ${e.op} of grant ${e.gid} of ${who(e.granter)} → ${errnoName(e.result)}`
        : null;
    case 'vm':
      return e.result !== undefined && e.result < 0
        ? `step ${e.step}: ${who(e.ep)} VM ${e.op} → ${errnoName(e.result)}`
        : null;
    default:
      return null;
  }
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  [SIGABRT]: 'SIGABRT',
  [SIGKILL]: 'SIGKILL',
  [SIGSEGV]: 'SIGSEGV',
  [SIGTERM]: 'SIGTERM',
};

function signalName(sig: number): string {
  return SIGNAL_NAMES[sig] ?? `signal ${sig}`;
}

/** What a program that threw left: its process, the kernel step, the error and where it was thrown. */
export interface Crash {
  /** Kernel step of the crash. */
  step: number;
  /** The process's endpoint. */
  endpoint: number;
  /** The process's name. */
  name: string;
  /** What it threw. */
  error: unknown;
}

/** One line per program that threw: process, step, the error's message and the first source line of the stack outside grantvm. */
export function crashLines(crashes: readonly Crash[], ownRoot: string): string[] {
  return crashes.map((c) => {
    const message = c.error instanceof Error ? `${c.error.name}: ${c.error.message}` : String(c.error);
    const where = c.error instanceof Error ? sourceOf(c.error.stack ?? '', ownRoot) : null;
    return `step ${c.step}: ${c.name} (endpoint ${c.endpoint}) threw ${message.split('\n')[0] ?? ''}${where === null ? '' : ` at ${where}`}`;
  });
}

/** The first frame of `stack` in a file of the user's (not node's, not under `ownRoot`): "file:line:column". */
export function sourceOf(stack: string, ownRoot: string): string | null {
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (m === null) continue;
    const raw = m[1] ?? '';
    // A CommonJS TypeScript file compiled by tsx runs from a data: URL that names the file (but not the line).
    const inData = raw.startsWith('data:') ? /[?&]filePath=([^?&:]+)/.exec(raw) : null;
    if (inData !== null) return decodeURIComponent(inData[1] ?? '').replace(/\?.*$/, '');
    const file = raw.replace(/^file:\/\//, '');
    if (file.startsWith('node:') || file.startsWith(ownRoot) || file.includes('/node_modules/')) continue;
    return `${file}:${m[2] ?? ''}:${m[3] ?? ''}`;
  }
  return null;
}
