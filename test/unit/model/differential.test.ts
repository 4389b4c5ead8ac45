// Differential pairs (issue 8): cowSafecopy on and off are observationally identical (same codes, same windows,
// same DS after every command), and so are cowBreak 'block' and 'page' — which differ in frames, faults and pages
// copied, as a crafted run shows; the generational and legacy grant-id schemes differ only on sequences that reach a
// revoked id whose slot was handed out again — and on such a sequence the difference does show.
import { describe, expect, it } from 'vitest';
import { test as fcTest } from '@fast-check/vitest';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import type { SystemConfig } from '../../../src/sim/config.ts';
import { commandsArb, modelBudget, scheduleArb } from './arbitraries.ts';

async function pair(commands: Command[], a: Partial<SystemConfig>, b: Partial<SystemConfig>) {
  const x = await runModel(commands, { config: a });
  const y = await runModel(commands, { config: b });
  for (const r of [x, y]) {
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
  }
  return [x, y] as const;
}

/**
 * A prelude that leaves all three windows sharing one 8-page block copy-on-write (when cowSafecopy is on: fz0 and
 * fz2 safecopy the whole of fz1's untouched window, through fz0), so that the random writes after it break a
 * multi-page block: the case where the cowBreak modes differ.
 */
const SHARED_WINDOWS: Command[] = [
  { k: 'grant', a: 1, to: 0, page: 0, pages: 8, access: 1 },
  { k: 'copy', a: 0, dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 * 4096 },
  { k: 'grant', a: 0, to: 2, page: 0, pages: 8, access: 1 },
  { k: 'copy', a: 2, dir: 'from', g: 1, gOff: 0, pos: 0, len: 8 * 4096 },
];

describe('differential pairs', () => {
  fcTest.prop([commandsArb(25), scheduleArb], modelBudget(10))(
    'cowSafecopy on and off: the same outcome and the same windows after every command',
    async (commands, schedule) => {
      const [on, off] = await pair(
        commands,
        { ...schedule, cowSafecopy: true },
        { ...schedule, cowSafecopy: false },
      );
      expect(on.observations).toEqual(off.observations);
    },
  );

  fcTest.prop([commandsArb(25), scheduleArb], modelBudget(4))(
    "cowBreak 'block' and 'page' after the windows share a block: the same outcome and windows after every command",
    async (commands, schedule) => {
      const [block, page] = await pair(
        [...SHARED_WINDOWS, ...commands],
        { ...schedule, cowBreak: 'block' },
        { ...schedule, cowBreak: 'page' },
      );
      expect(page.observations).toEqual(block.observations);
    },
  );

  it("cowBreak 'page' copies fewer pages and takes more faults than 'block' for the same observations", async () => {
    const commands: Command[] = [
      // fz0 safecopies 4 untouched pages of fz1 (page-aligned: COW, one 4-page block shared by both windows) ...
      { k: 'grant', a: 1, to: 0, page: 0, pages: 4, access: 1 },
      { k: 'copy', a: 0, dir: 'from', g: 0, gOff: 0, pos: 0, len: 4 * 4096 },
      // ... then writes a byte of its page 1, then of its page 3.
      { k: 'write', a: 0, pos: 4096 + 5, len: 1, byte: 7 },
      { k: 'write', a: 0, pos: 3 * 4096, len: 1, byte: 8 },
    ];
    const watch = async (cowBreak: 'block' | 'page') => {
      const seen: { copied: number; faults: number }[] = [];
      const r = await runModel(commands, {
        config: { cowBreak, trace: 'memory' },
        afterCommand: (sys) => {
          seen.push({
            copied: sys.vm.counts.cowPagesCopied,
            faults: sys.trace.filter((e) => e.kind === 'fault').length,
          });
        },
      });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      const d = (i: number, k: 'copied' | 'faults'): number =>
        (seen[i]?.[k] ?? NaN) - (seen[i - 1]?.[k] ?? NaN);
      return {
        r,
        write1: { copied: d(2, 'copied'), faults: d(2, 'faults') },
        write3: { copied: d(3, 'copied'), faults: d(3, 'faults') },
      };
    };
    const block = await watch('block');
    const page = await watch('page');
    expect(page.r.observations).toEqual(block.r.observations);
    // The first write breaks the sharing: the whole 4-page block, or the written page only.
    expect(block.write1).toEqual({ copied: 4, faults: 1 });
    expect(page.write1).toEqual({ copied: 1, faults: 1 });
    // The second: 'block' already has its private writable copy; 'page' faults and copies one more page.
    expect(block.write3).toEqual({ copied: 0, faults: 0 });
    expect(page.write3).toEqual({ copied: 1, faults: 1 });
  });

  fcTest.prop([commandsArb(25), scheduleArb], modelBudget(10))(
    'generational and legacy ids: identical unless a revoked id reaches a reused slot',
    async (commands, schedule) => {
      const [gen, legacy] = await pair(
        commands,
        { ...schedule, grantIds: 'generational' },
        { ...schedule, grantIds: 'legacy' },
      );
      expect(gen.staleReuse).toBe(false);
      if (!legacy.staleReuse) expect(gen.observations).toEqual(legacy.observations);
    },
  );

  it('a stale id whose slot was reused: generational refuses it, legacy reaches the new grant', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 4096, byte: 0x11 },
      { k: 'write', a: 0, pos: 4096, len: 4096, byte: 0x22 },
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 1 },
      { k: 'revoke', a: 0, g: 0 },
      { k: 'grant', a: 0, to: 1, page: 1, pages: 1, access: 1 },
      // Grant 0 (revoked) as fz1 knows it: its slot now holds grant 1 (page 1).
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 100 },
    ];
    const [gen, legacy] = await pair(commands, { grantIds: 'generational' }, { grantIds: 'legacy' });
    expect(legacy.staleReuse).toBe(true);
    expect(gen.staleReuse).toBe(false);
    expect(gen.observations[5]).toMatch(/^\{"result":-1\} /);
    expect(legacy.observations[5]).toMatch(/^\{"result":0\} /);
    expect(gen.observations.slice(0, 5)).toEqual(legacy.observations.slice(0, 5));
  });
});
