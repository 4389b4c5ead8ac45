// The pagewalk topic: seeds 1–100 make valid, distinct problems, and every answer equals a page walk done by hand
// over the printed entries (directory, then table, P/U/W at both levels, PS for the kernel's 4 MiB page).
import { describe, expect, it } from 'vitest';
import { pagewalkExercise } from '../../../../src/sim/exercise/pagewalk.ts';
import type { PagewalkGivens } from '../../../../src/sim/exercise/pagewalk.ts';
import { expectAnswers, expectSweepValid, sweep } from '../../../helpers/exercise.ts';

const P = 1;
const W = 2;
const U = 4;
const PS = 0x80;

function walk(g: PagewalkGivens, vaddr: number, write: boolean): string {
  const pde = g.dir.find((e) => e.index === vaddr >>> 22)?.value;
  if (pde === undefined) throw new Error(`directory entry ${vaddr >>> 22} not printed`);
  if ((pde & P) === 0) return 'fault: absent';
  let entry: number;
  let pa: number;
  if ((pde & PS) !== 0) {
    entry = pde;
    pa = ((pde & 0xffc00000) >>> 0) + (vaddr & 0x3fffff);
  } else {
    const table = g.tables.find((t) => t.frame === pde >>> 12);
    const pte = table?.entries.find((e) => e.index === ((vaddr >>> 12) & 0x3ff))?.value;
    if (pte === undefined) throw new Error(`table entry for ${vaddr.toString(16)} not printed`);
    if ((pte & P) === 0) return 'fault: absent';
    entry = pte & pde;
    pa = ((pte & 0xfffff000) >>> 0) + (vaddr & 0xfff);
  }
  if ((entry & U) === 0) return 'fault: supervisor';
  if (write && (entry & W) === 0) return 'fault: read-only';
  return `0x${pa.toString(16)}`;
}

const solve = (g: PagewalkGivens): Record<string, string> =>
  Object.fromEntries(g.accesses.map((a, i) => [String(i + 1), walk(g, a.vaddr, a.write)]));

describe('exercise pagewalk', () => {
  it('level 2: seeds 1–100 are valid, distinct, and agree with a walk over the printed tables', async () => {
    const list = await sweep(pagewalkExercise, 2, 100);
    expectSweepValid(list);
    expectAnswers(list, solve);
    const kinds = new Set(
      list.flatMap((e) => e.answers.map((a) => (a.value.startsWith('0x') ? 'pa' : a.value))),
    );
    expect([...kinds].sort()).toEqual(['fault: absent', 'fault: read-only', 'fault: supervisor', 'pa']);
  }, 30_000);

  it('level 1 asks reads only and agrees on seeds 1–20', async () => {
    const list = await sweep(pagewalkExercise, 1, 20);
    expectSweepValid(list);
    expectAnswers(list, solve);
    expect(list.every((e) => e.givens.accesses.every((a) => !a.write))).toBe(true);
  }, 30_000);
});
