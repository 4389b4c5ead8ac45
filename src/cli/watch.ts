// Where a scenario's worker is, readable from the main thread even while the worker spins in a loop: the
// latest kernel step and the process that has the CPU (or none: the scenario's own code runs), in a
// SharedArrayBuffer the worker writes at every kernel entry and switch (SystemConfig.watch) and the runner
// reads when the wall-clock limit ends the worker.
// Entry points: WATCH_BYTES, watchWriter, readWatch.
import type { KProc } from '../kernel/proc.ts';

/** Bytes of the shared record: the step and the endpoint (two float64), then the process name (UTF-8, zero-padded). */
export const WATCH_BYTES = 16 + 48;

/** The watch that keeps the record up to date (the name is written only when the process changes). */
export function watchWriter(shared: SharedArrayBuffer): (step: number, proc: KProc | null) => void {
  const numbers = new Float64Array(shared, 0, 2);
  const name = new Uint8Array(shared, 16);
  const encoder = new TextEncoder();
  let last: KProc | null = null;
  return (step, proc) => {
    numbers[0] = step;
    if (proc === last) return;
    last = proc;
    numbers[1] = proc === null ? Number.NaN : proc.endpoint;
    name.fill(0);
    if (proc !== null) encoder.encodeInto(proc.name, name);
  };
}

/** The record as words: "at kernel step N, running NAME (endpoint E)" or "... in the scenario's own code", or "before the system ran". */
export function readWatch(shared: SharedArrayBuffer): string {
  const numbers = new Float64Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 16);
  const end = bytes.indexOf(0);
  const name = new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end));
  const step = numbers[0] ?? 0;
  const endpoint = numbers[1] ?? 0;
  if (step === 0 && name === '') return 'before the system ran (loading the scenario, or booting)';
  if (Number.isNaN(endpoint))
    return `at kernel step ${step}, in the scenario's own code (no process running)`;
  return `at kernel step ${step}, running ${name} (endpoint ${endpoint})`;
}
