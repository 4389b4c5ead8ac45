// brk in the model tester: an actor moves its break (grow, shrink, at or below the heap's start and into the stack
// → ENOMEM, spec/vm.md §8.4) and reads, writes and safecopies heap bytes; grown pages read as zeros, pages past a
// shrunk break are gone (a user access is a SIGSEGV, a safecopy EFAULT), and growing again gives zeros. The heap's
// start and first break come from the actor's configuration (RS's boot image), not from VM.
import { describe, expect, it } from 'vitest';
import { kwrite } from '../../../src/kernel/memory.ts';
import { BRK_FAR } from '../../../src/sim/model/commands.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';
import { ACTOR_HEAP, HEAP_BASE, runModel } from '../../../src/sim/model/executor.ts';

const P = 4096;

describe('model tester: brk', () => {
  it('follows the break and the heap bytes with the spec codes', async () => {
    expect(ACTOR_HEAP.pages).toBe(4);
    const commands: Command[] = [
      { k: 'awrite', a: 0, pos: 3 * P + 8, len: 8, byte: 5, heap: true }, // the first heap: 4 pages
      { k: 'brk', a: 0, at: 6 * P + 1 }, // rounded up: 7 pages
      { k: 'aread', a: 0, pos: 6 * P + 4, heap: true }, // grown: zeros
      { k: 'awrite', a: 0, pos: 5 * P, len: 2 * P, byte: 6, heap: true },
      { k: 'brk', a: 0, at: 0 }, // at the heap's start → ENOMEM, nothing changes
      { k: 'brk', a: 0, at: -P },
      { k: 'brk', a: 0, at: BRK_FAR }, // into the stack → ENOMEM
      { k: 'brk', a: 0, at: 6 * P }, // shrink to 6 pages: page 6 goes
      { k: 'grant', a: 1, to: 0, page: 0, pages: 2, access: 7 },
      { k: 'write', a: 1, pos: 0, len: P, byte: 9 },
      { k: 'acopy', a: 0, dir: 'from', g: 0, gOff: 0, pos: 5 * P + 100, len: P, heap: true }, // into page 6 → EFAULT
      { k: 'acopy', a: 0, dir: 'from', g: 0, gOff: 0, pos: 4 * P, len: 100, heap: true },
      { k: 'acopy', a: 0, dir: 'to', g: 0, gOff: P, pos: 3 * P + 8, len: 8, heap: true }, // 5s into fz1's page 1
      { k: 'copy', a: 0, dir: 'from', g: 0, gOff: P + 4, pos: 0, len: 4 },
      { k: 'aread', a: 0, pos: 4 * P + 96, heap: true },
      { k: 'brk', a: 0, at: 8 * P }, // grow again: pages 6 and 7 are zeros
      { k: 'aread', a: 0, pos: 6 * P, heap: true },
      { k: 'aread', a: 0, pos: 5 * P + 4, heap: true },
      { k: 'brk', a: 0, at: P - 1 }, // one page left
      { k: 'aread', a: 0, pos: P, heap: true }, // past the break → SIGSEGV: RS restarts it with a fresh heap
      { k: 'aread', a: 0, pos: 3 * P + 8, heap: true },
    ];
    const r = await runModel(commands);
    expect(r.violation).toBeNull();
    expect(r.leaks).toEqual([]);
    expect(r.observations.map((o) => o.split(' ')[0])).toEqual([
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":0}',
      '{"result":0}',
      '{"result":-12}',
      '{"result":-12}',
      '{"result":-12}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":-14}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0}',
      '{"result":0,"value":151587081}',
      '{"result":0}',
      '{"result":0,"value":0}',
      '{"result":0,"value":101058054}',
      '{"result":0}',
      '{"result":"killed"}',
      '{"result":0,"value":0}',
    ]);
  });

  it('reports a heap byte changed behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'brk', a: 2, at: 5 * P },
      { k: 'awrite', a: 2, pos: 4 * P, len: 8, byte: 1, heap: true },
      { k: 'aread', a: 1, pos: 0, heap: true },
    ];
    const r = await runTampered(commands, { after: 1, actor: 2 }, (a2, sys) => {
      kwrite(sys.kernel, a2.kp, HEAP_BASE + 4 * P + 3, new Uint8Array([7]));
    });
    expect(r.violation?.index).toBe(2);
    expect(r.violation?.message).toContain(`fz2: heap byte ${4 * P + 3} is 7, the oracle says 1`);
  });

  it('reports a break moved behind the oracle back', async () => {
    const commands: Command[] = [
      { k: 'brk', a: 1, at: 2 * P },
      { k: 'aread', a: 0, pos: 0, heap: true },
    ];
    const r = await runTampered(commands, { after: 0, actor: 1 }, (a1) =>
      a1.do((p) => p.brk(HEAP_BASE + 3 * P)),
    );
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain('fz1: the heap ends at page 3, the oracle says 2');
  });
});
