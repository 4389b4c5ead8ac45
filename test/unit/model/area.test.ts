// The mmap area of the model tester: mmap (MAP_FIXED and hinted), munmap of whole regions, heads, tails and
// middles, user reads and writes, and safecopies to and from it agree with the oracle's regions and bytes, with the
// codes spec/vm.md §8.2–8.3 and spec/grants.md §5 name; a region or a byte changed behind the oracle's back is seen.
import { describe, expect, it } from 'vitest';
import { kwrite } from '../../../src/kernel/memory.ts';
import { vmMunmap } from '../../../src/libsys/vm.ts';
import { areaBase, runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';

const P = 4096;

describe('model tester: the mmap area', () => {
  it('follows mmap, munmap, reads, writes and copies with the spec codes', async () => {
    const commands: Command[] = [
      { k: 'mmap', a: 0, page: 1, pages: 3, fixed: true }, // [1,4)
      { k: 'mmap', a: 0, page: 2, pages: 2, fixed: true }, // overlaps → ENOMEM
      { k: 'mmap', a: 0, page: 0, pages: 2, fixed: false }, // first fit ≥ 0 for 2 pages → [4,6)
      { k: 'aread', a: 0, pos: 5 * P }, // mapped, never written → 0
      { k: 'awrite', a: 0, pos: P + 100, len: 2 * P, byte: 7 },
      { k: 'munmap', a: 0, page: 2, pages: 1 }, // middle → [1,2) [3,4)
      { k: 'munmap', a: 0, page: 3, pages: 3 }, // past the end of [3,4) → EFAULT
      { k: 'munmap', a: 0, page: 4, pages: 1 }, // head of [4,6)
      { k: 'aread', a: 0, pos: 3 * P }, // 7s
      { k: 'grant', a: 1, to: 0, page: 0, pages: 2, access: 7 },
      { k: 'write', a: 1, pos: 0, len: P, byte: 9 },
      { k: 'acopy', a: 0, dir: 'from', g: 0, gOff: 0, pos: P, len: 100 },
      { k: 'acopy', a: 0, dir: 'from', g: 0, gOff: 0, pos: P, len: 2 * P }, // page 2 is a hole → EFAULT
      { k: 'acopy', a: 0, dir: 'to', g: 0, gOff: 10, pos: 3 * P, len: 100 },
      { k: 'awrite', a: 0, pos: 2 * P, len: 1, byte: 7 }, // a hole → SIGSEGV
      { k: 'aread', a: 0, pos: P }, // the new instance has no area
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    const codes = r.observations.map((o) => o.split(' ')[0]);
    expect(codes).toEqual([
      '{"result":0,"value":1}',
      '{"result":-12}',
      '{"result":0,"value":4}',
      '{"result":0,"value":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-14}',
      '{"result":0}',
      '{"result":0,"value":117901063}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-14}',
      '{"result":0}',
      '{"result":"killed"}',
      '{"result":"killed"}',
    ]);
  });

  it('reports a region unmapped behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'mmap', a: 2, page: 0, pages: 3, fixed: true },
      { k: 'aread', a: 2, pos: 0 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 2 }, (a2) =>
      a2.do((p) => vmMunmap(p, areaBase(a2) + P, P)),
    );
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain('fz2: area regions [[0,1],[2,3]], the oracle says [[0,3]]');
  });

  it('reports an area byte changed behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'mmap', a: 1, page: 2, pages: 1, fixed: true },
      { k: 'awrite', a: 1, pos: 2 * P, len: 8, byte: 3 },
      { k: 'aread', a: 0, pos: 0 },
    ];
    const r = await runTampered(commands, { after: 1, actor: 1 }, (a1, sys) => {
      kwrite(sys.kernel, a1.kp, areaBase(a1) + 2 * P + 5, new Uint8Array([42]));
    });
    expect(r.violation?.index).toBe(2);
    expect(r.violation?.message).toContain(`fz1: area byte ${2 * P + 5} is 42, the oracle says 3`);
  });
});
