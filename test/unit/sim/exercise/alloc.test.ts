// The alloc topic: seeds 1–100 at both levels make valid, distinct problems, and VM's allocator places every
// allocation where a first-fit model over the printed free ranges does (top-down, LOWER16MB bottom-up below 16 MiB,
// ALIGN64K over n+16 pages).
import { describe, expect } from 'vitest';
import { allocExercise } from '../../../../src/sim/exercise/alloc.ts';
import type { AllocGivens, PageRange } from '../../../../src/sim/exercise/alloc.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A free list as a sorted array, with coalescing frees. */
function freeInto(free: PageRange[], addr: number, size: number): void {
  free.push({ addr, size });
  free.sort((a, b) => a.addr - b.addr);
  for (let i = 0; i + 1 < free.length;) {
    const a = free[i];
    const b = free[i + 1];
    if (a !== undefined && b !== undefined && a.addr + a.size === b.addr) {
      a.size += b.size;
      free.splice(i + 1, 1);
    } else i++;
  }
}

function take(free: PageRange[], n: number, lower: boolean): number {
  const order = lower ? free : [...free].reverse();
  const r = order.find((x) => x.size >= n);
  if (r === undefined || (lower && r.addr + n > 0x1000)) return -1;
  const page = lower ? r.addr : r.addr + r.size - n;
  if (lower) r.addr += n;
  r.size -= n;
  if (r.size === 0) free.splice(free.indexOf(r), 1);
  return page;
}

function solve(g: AllocGivens): Record<string, string> {
  const free = g.free.map((r) => ({ ...r }));
  const out: Record<string, string> = {};
  const placed = new Map<number, [number, number]>();
  g.steps.forEach((s, i) => {
    if (s.op === 'free') {
      const [p, n] = placed.get(s.of) ?? [0, 0];
      freeInto(free, p, n);
      return;
    }
    let page: number;
    if (s.flags.includes('ALIGN64K')) {
      const raw = take(free, s.pages + 16, false);
      page = raw < 0 ? -1 : Math.ceil(raw / 16) * 16;
      if (raw >= 0 && page > raw) freeInto(free, raw, page - raw);
      if (raw >= 0 && 16 - (page - raw) > 0) freeInto(free, page + s.pages, 16 - (page - raw));
    } else page = take(free, s.pages, s.flags.includes('LOWER16MB'));
    if (page >= 0) placed.set(i + 1, [page, s.pages]);
    out[String(i + 1)] = page < 0 ? 'NO_MEM' : hex(page);
  });
  out.ranges = free.map((r) => `${hex(r.addr)}+${hex(r.size)}`).join(', ');
  return out;
}

describe('exercise alloc', () => {
  sweepTests(
    allocExercise,
    solve,
    [
      [1, 100],
      [2, 100],
    ],
    (values) => {
      expect(values).toContain('NO_MEM');
    },
  );
});
