// The simulated-time section of `grantvm inspect`: where the time went under the cost profile, per process
// (user mode and kernel on its behalf) and per cost kind. Entry points: timeLines.
import type { TimeReport } from '../sim/cost.ts';
import { table } from './format.ts';

const us = (x: number): string => x.toFixed(3);
const pct = (x: number, total: number): string => (total > 0 ? `${((100 * x) / total).toFixed(1)}%` : '-');

/** The time report as printable text: a summary line, a table per process and a table per cost kind. */
export function timeLines(t: TimeReport): string {
  const procs = [...t.procs].sort((a, b) => b.userMicros + b.kernelMicros - (a.userMicros + a.kernelMicros));
  return [
    `profile ${t.profile}: ${us(t.totalMicros)} µs simulated, ${us(t.kernelMicros)} µs in the kernel, ${us(t.endedMicros)} µs of processes since ended`,
    table(
      ['endpoint', 'name', 'user µs', 'kernel µs', 'share'],
      procs.map((p) => [
        p.endpoint,
        p.name,
        us(p.userMicros),
        us(p.kernelMicros),
        pct(p.userMicros + p.kernelMicros, t.totalMicros),
      ]),
    ),
    table(
      ['cost kind', 'count', 'µs', 'share'],
      t.kinds.map((k) => [k.kind, k.count, us(k.micros), pct(k.micros, t.totalMicros)]),
    ),
  ].join('\n');
}
