// Model-based testing (issue 8): random command sequences over grants, safecopy/vsafecopy, safemap/saferevmap/
// safeunmap, mmap/munmap/brk, fork/exec/kill, DS (snapshots included) and service crashes agree with the naive
// oracle after every command (codes, every window, area and heap, DS), every invariant holds after every kernel
// entry (sanity 'top' plus sys.sanityCheck()), and nothing leaks at the end.
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { kwrite } from '../../../src/kernel/memory.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { runTampered } from './tamper.ts';
import { commandsArb, modelBudget, scheduleArb } from './arbitraries.ts';

describe('model-based testing against the naive oracle', () => {
  fcTest.prop(
    [commandsArb(30), scheduleArb, fc.boolean(), fc.constantFrom('generational' as const, 'legacy' as const)],
    modelBudget(20),
  )(
    'codes, windows and DS agree with the oracle after every command; invariants hold; nothing leaks',
    async (commands, schedule, cow, grantIds) => {
      const r = await runModel(commands, { config: { ...schedule, cowSafecopy: cow, grantIds } });
      expect(r.violation).toBeNull();
      expect(r.leaks).toEqual([]);
      expect(r.commands).toBe(commands.length);
      expect(r.checks).toBeGreaterThan(commands.length);
    },
  );

  it('reports a byte changed behind the oracle back at the next comparison', async () => {
    const commands: Command[] = [
      { k: 'write', a: 0, pos: 0, len: 16, byte: 5 },
      { k: 'write', a: 1, pos: 0, len: 16, byte: 6 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 0 }, (a0, sys) => {
      kwrite(sys.kernel, a0.kp, a0.buf + 3, new Uint8Array([99]));
    });
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain('fz0: window byte 3 (page 0) is 99, the oracle says 5');
  });

  it('reports a wrong return code', async () => {
    // A grant revoked behind the oracle's back: the copy through it fails, the oracle expects OK.
    const commands: Command[] = [
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 1 },
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 8 },
    ];
    const r = await runTampered(commands, { after: 0, actor: 0 }, (a0) => a0.do((p) => p.cpf.revoke(0)));
    expect(r.violation?.index).toBe(1);
    expect(r.violation?.message).toContain('returned {"result":-1}, the oracle says {"result":0}');
  });
});
