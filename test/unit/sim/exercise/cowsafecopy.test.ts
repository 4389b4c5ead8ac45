// The cowsafecopy topic: seeds 1–100 make valid, distinct problems, and every answer equals a block model of
// copy-on-write safecopy: the COW path iff offsets are congruent modulo 4096 and a whole page fits; head and tail
// pages (or every page of a plain copy) are written in R first; COWMAP splits blocks at the range's ends, drops R's
// old pages and shares G's read-only; a write to a shared block copies the whole block for the writer (level 3,
// cowBreak 'page': the block is split around the written page and only that page is copied).
import { describe, expect } from 'vitest';
import { cowsafecopyExercise } from '../../../../src/sim/exercise/cowsafecopy.ts';
import type { CowsafecopyGivens } from '../../../../src/sim/exercise/cowsafecopy.ts';
import { sweepTests } from '../../../helpers/exercise.ts';

const PAGE = 4096;
type Block = { size: number; rc: number };
type Ref = { block: Block; off: number; writable: boolean };
type Side = 'G' | 'R';

class Model {
  readonly refs: Record<Side, Ref[]>;
  constructor(
    pages: number,
    private readonly cowBreak: 'block' | 'page',
  ) {
    const g: Block = { size: pages, rc: 1 };
    this.refs = {
      G: Array.from({ length: pages }, (_, i) => ({ block: g, off: i, writable: true })),
      R: Array.from({ length: pages }, () => ({ block: { size: 1, rc: 1 }, off: 0, writable: true })),
    };
  }

  private all(): Ref[] {
    return [...this.refs.G, ...this.refs.R];
  }

  split(side: Side, page: number): void {
    const e = this.refs[side][page];
    if (e === undefined || e.off === 0) return;
    const b = e.block;
    const at = e.off;
    const nb: Block = { size: b.size - at, rc: b.rc };
    b.size = at;
    for (const r of this.all())
      if (r.block === b && r.off >= at) Object.assign(r, { block: nb, off: r.off - at });
  }

  write(side: Side, page: number): string {
    const e = this.refs[side][page];
    if (e === undefined || e.writable) return 'none';
    if (this.cowBreak === 'page' && e.block.rc > 1) {
      if (this.refs[side][page + 1]?.block === e.block) this.split(side, page + 1);
      this.split(side, page);
    }
    const b = e.block;
    const mine = this.refs[side].filter((r) => r.block === b);
    if (b.rc === 1) {
      for (const r of mine) r.writable = true;
      return 'no copy';
    }
    b.rc--;
    const nb: Block = { size: b.size, rc: 1 };
    for (const r of mine) Object.assign(r, { block: nb, writable: true });
    return `copy ${b.size}`;
  }

  cowmap(gStart: number, rStart: number, m: number): void {
    for (const [side, p] of [
      ['G', gStart],
      ['G', gStart + m],
      ['R', rStart],
      ['R', rStart + m],
    ] as const)
      this.split(side, p);
    for (const b of new Set(this.refs.R.slice(rStart, rStart + m).map((r) => r.block))) b.rc--;
    for (const b of new Set(this.refs.G.slice(gStart, gStart + m).map((r) => r.block))) b.rc++;
    for (let k = 0; k < m; k++) {
      const g = this.refs.G[gStart + k];
      if (g === undefined) continue;
      g.writable = false;
      this.refs.R[rStart + k] = { block: g.block, off: g.off, writable: false };
    }
  }

  shared(): number[] {
    const key = (r: Ref): string => `${this.ids(r.block)}:${r.off}`;
    const g = new Set(this.refs.G.map(key));
    return this.refs.R.flatMap((r, i) => (g.has(key(r)) ? [i] : []));
  }

  frames(): number {
    return new Set(this.all().map((r) => `${this.ids(r.block)}:${r.off}`)).size;
  }

  private readonly idMap = new Map<Block, number>();
  private ids(b: Block): number {
    if (!this.idMap.has(b)) this.idMap.set(b, this.idMap.size);
    return this.idMap.get(b) ?? -1;
  }
}

function solve(g: CowsafecopyGivens): Record<string, string> {
  const m = new Model(g.pages, g.cowBreak);
  const out: Record<string, string> = {};
  g.steps.forEach((s, i) => {
    const id = String(i + 1);
    if (s.op === 'write') {
      out[id] = m.write(s.who, s.page);
      return;
    }
    const h = (PAGE - (s.src % PAGE)) % PAGE;
    const mid = Math.floor((s.bytes - h) / PAGE);
    const cow = s.src % PAGE === s.dst % PAGE && s.bytes >= h && mid >= 1;
    if (cow) {
      const t = s.bytes - h - mid * PAGE;
      if (h > 0) m.write('R', Math.floor(s.dst / PAGE));
      if (t > 0) m.write('R', (s.dst + h) / PAGE + mid);
      m.cowmap((s.src + h) / PAGE, (s.dst + h) / PAGE, mid);
    } else for (let p = Math.floor(s.dst / PAGE); p * PAGE < s.dst + s.bytes; p++) m.write('R', p);
    const shared = m.shared();
    out[`${id}cow`] = cow ? 'yes' : 'no';
    out[`${id}shared`] = shared.length === 0 ? 'none' : shared.join(', ');
  });
  out.frames = String(m.frames());
  return out;
}

describe('exercise cowsafecopy', () => {
  sweepTests(
    cowsafecopyExercise,
    solve,
    [
      [1, 100],
      [2, 25],
      [3, 25],
    ],
    (values, level) => {
      for (const v of ['yes', 'no', 'none']) expect(values).toContain(v);
      expect([...values].some((v) => v.startsWith('copy '))).toBe(true);
      if (level === 3) expect([...values].filter((v) => v.startsWith('copy '))).toEqual(['copy 1']);
    },
  );
});
