// The cowfork topic: seeds 1–100 make valid, distinct problems, and every answer equals a reference-count model
// of copy-on-write fork (fork shares present pages read-only; a write copies a shared page, re-enables a last
// reference, or zero-fills an absent page; exit drops references).
import { describe, expect } from 'vitest';
import { cowforkExercise } from '../../../../src/sim/exercise/cowfork.ts';
import type { CowforkGivens } from '../../../../src/sim/exercise/cowfork.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

type Page = { block: { rc: number }; writable: boolean } | null;

function solve(g: CowforkGivens): Record<string, string> {
  const procs = new Map<string, Page[]>();
  procs.set(
    'P',
    Array.from({ length: g.pages }, (_, i) =>
      g.written.includes(i) ? { block: { rc: 1 }, writable: true } : null,
    ),
  );
  const out: Record<string, string> = {};
  g.steps.forEach((s, i) => {
    const pages = procs.get(s.who) ?? [];
    if (s.op === 'fork') {
      for (const p of pages) {
        if (p === null) continue;
        p.block.rc++;
        p.writable = false;
      }
      procs.set(
        s.child,
        pages.map((p) => (p === null ? null : { block: p.block, writable: false })),
      );
    } else if (s.op === 'exit') {
      for (const p of pages) if (p !== null) p.block.rc--;
      procs.delete(s.who);
    } else {
      const p = pages[s.page] ?? null;
      let v: string;
      if (p === null) {
        pages[s.page] = { block: { rc: 1 }, writable: true };
        v = 'zero';
      } else if (p.writable) v = 'none';
      else if (p.block.rc > 1) {
        p.block.rc--;
        pages[s.page] = { block: { rc: 1 }, writable: true };
        v = 'copy';
      } else {
        p.writable = true;
        v = 'no copy';
      }
      out[String(i + 1)] = v;
    }
  });
  const blocks = new Set(
    [...procs.values()].flatMap((ps) => ps.flatMap((p) => (p === null ? [] : [p.block]))),
  );
  out.frames = String(blocks.size);
  (procs.get('P') ?? []).forEach((p, i) => {
    out[`ref${i}`] = String(p?.block.rc ?? 0);
  });
  return out;
}

describe('exercise cowfork', () => {
  sweepTests(
    cowforkExercise,
    solve,
    [
      [1, 100],
      [2, 25],
    ],
    (values, level) => {
      for (const v of level > 1 ? ['none', 'copy', 'no copy', 'zero'] : ['none', 'copy', 'no copy'])
        expect(values).toContain(v);
    },
  );
});
