// The ported suites' buffers live in a data segment preallocated at exec (spec/vm.md §12 item 5): withStaticData
// execs the service into an image whose heap region is one multi-page block, staticBuffer hands out its pages in
// order, and a grant over part of it mapped by another process splits the block, as in MINIX's run.
import { describe, expect, it } from 'vitest';
import { OK } from '../../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { VM_PROCSTART } from '../../../src/include/vm.ts';
import { startTestService } from '../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../src/sim/system.ts';
import { staticBuffer, withStaticData } from '../../../src/user/safetest.ts';
import type { TestReport } from '../../../src/user/safetest.ts';

const PAGE = 4096;
const report: TestReport = { line: () => undefined, check: () => undefined };

describe('static buffers in the data segment', () => {
  it('one preallocated block at VM_PROCSTART; buffers in order; a safemap of one page splits it', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'functions' });
    const seen: { a: number; b: number; faults: number; gid: number } = { a: 0, b: 0, faults: -1, gid: -1 };
    let grantee = -1;
    const granter = await startTestService(
      sys,
      'sgrantor',
      withStaticData(report, 4, async (p) => {
        seen.a = staticBuffer(p, 1);
        seen.b = staticBuffer(p, 3);
        const before = sys.kernel.counts.pageFaults;
        await p.write(seen.a, new Uint8Array(4 * PAGE).fill(7));
        seen.faults = sys.kernel.counts.pageFaults - before;
        const m = await p.receive();
        grantee = m.source;
        const g = await p.cpf.grantDirect(grantee, seen.b + PAGE, PAGE, CPF_READ | CPF_WRITE | CPF_MAP);
        seen.gid = g.id;
        await p.send(grantee, { type: 1, gid: g.id });
        await p.receive(grantee);
        return 0;
      }),
    );
    expect(granter).toBeGreaterThan(0);
    expect([seen.a, seen.b, seen.faults]).toEqual([VM_PROCSTART, VM_PROCSTART + PAGE, 0]);
    const heapBlocks = (): number[] =>
      (sys.vm.regions(granter).find((r) => r.vaddr === VM_PROCSTART)?.refs ?? []).map((r) => r.length / PAGE);
    expect(heapBlocks()).toEqual([4]);
    let mapped = -1;
    let afterMap: number[] = [];
    const requestor = await startTestService(
      sys,
      'srequestor',
      withStaticData(report, 1, async (p) => {
        await p.send(granter, { type: 1 });
        const m = await p.receive(granter);
        mapped = await p.sys.safemap(granter, Number(m['gid']), 0, staticBuffer(p, 1), PAGE, false);
        afterMap = heapBlocks();
        await p.send(granter, { type: 2 });
        return 0;
      }),
    );
    expect(requestor).toBeGreaterThan(0);
    expect(mapped).toBe(OK);
    expect(afterMap).toEqual([2, 1, 1]);
    sys.sanityCheck();
  });
});
