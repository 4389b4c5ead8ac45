// A process's own accesses whose page faults a scripted pager serves (src/kernel/memory.ts userAccess and the
// page-fault path), written for memory.ts's mutation pass: a read resumes at the page that faulted, into the
// right place of its buffer; the page table VM withdraws while the process waits (SETCR3 to -1) ends it with
// SIGSEGV, one VM moves to frame 0 goes on working; a fault at the end of the quantum waits its turn; an empty
// access does nothing, wherever it points.
import { describe, expect, it } from 'vitest';
import { ALL, grantWorld } from '../../helpers/grantworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import {
  SYS_VMCTL,
  VMCTL_CLEAR_PAGEFAULT,
  VMCTL_GET_PAGEFAULT,
  VMCTL_I386_SETCR3,
} from '../../../src/include/com.ts';
import { ANY, VM_PROC_NR } from '../../../src/include/endpoint.ts';
import { OK, SIGSEGV } from '../../../src/include/errno.ts';
import { numField } from '../../../src/include/ipc.ts';
import { ADDRESS_SPACE_BYTES } from '../../../src/lib/units.ts';
import { makeSystemPriv } from '../../../src/kernel/priv.ts';
import { toProgram } from '../../../src/libsys/proc.ts';
import { pattern, PAGE, MiB } from '../../helpers/bytes.ts';

/** A fault as the pager saw it: endpoint, address, write. */
type Seen = [number, number, boolean];

/**
 * A VM at VM_PROC_NR that serves each page fault with `serve(endpoint, address)`, which answers the directory frame to
 * load (SETCR3) or null to keep it, then clears the fault. Returns the faults it saw.
 */
function pager(w: World, serve: (endpoint: number, addr: number) => number | null): Seen[] {
  const seen: Seen[] = [];
  w.k.createProcess({
    slot: VM_PROC_NR,
    name: 'pager',
    program: toProgram(w.k, async (p) => {
      for (;;) {
        await p.receive(ANY);
        for (;;) {
          const f = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_GET_PAGEFAULT });
          if (f.type !== OK) break;
          const endpoint = numField(f, 'endpoint');
          const addr = numField(f, 'addr');
          seen.push([endpoint, addr, f['write'] === true]);
          const frame = serve(endpoint, addr);
          if (frame !== null)
            await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_I386_SETCR3, endpoint, frame });
          await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_CLEAR_PAGEFAULT, endpoint });
        }
      }
    }),
    priv: makeSystemPriv(w.k.newPrivId(), ALL),
    priority: 2,
    generation: 0,
  });
  return seen;
}

/** A paged actor whose pages 0 and 2 hold patterns and whose page 1 is not mapped. */
function holed(w: World): Actor {
  const a = w.actor(20, 'A', { paged: true });
  a.mapPage(a.base);
  a.mapPage(a.base + 2 * PAGE);
  a.poke(a.base, pattern(PAGE, 1));
  a.poke(a.base + 2 * PAGE, pattern(PAGE, 2));
  return a;
}

/** What holed's pages hold once VM has filled page 1 with zeros: [from, from + n) of the three pages. */
function holedBytes(from: number, n: number): Uint8Array {
  const all = new Uint8Array(3 * PAGE);
  all.set(pattern(PAGE, 1), 0);
  all.set(pattern(PAGE, 2), 2 * PAGE);
  return all.slice(from, from + n);
}

describe('a read whose middle page faults', () => {
  it('resumes at the page that faulted, into the same place of its buffer, and faults once', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = holed(w);
    const seen = pager(w, (_, addr) => {
      a.mapPage(addr - (addr % PAGE));
      return null;
    });
    const n = 2 * PAGE + 50 - 100;
    const buf = new Uint8Array(n + 9).fill(0xee);
    await a.do((p) => p.readInto(a.base + 100, buf, 7, n));
    expect(seen).toEqual([[a.ep, a.base + PAGE, false]]);
    expect(buf.subarray(7, 7 + n)).toEqual(holedBytes(100, n));
    expect([...buf.subarray(0, 7), ...buf.subarray(7 + n)]).toEqual(new Array<number>(9).fill(0xee));
  });
});

describe('the page table changes while the process waits on its fault', () => {
  it('VM loads no page table (SETCR3 to -1): the access ends the process with SIGSEGV', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = holed(w);
    const seen = pager(w, () => -1);
    const h = a.start((p) => p.read(a.base + PAGE - 8, 16));
    await w.k.run();
    expect(seen).toEqual([[a.ep, a.base + PAGE, false]]);
    expect([h.done(), a.kp.inUse, a.kp.exitStatus]).toEqual([false, false, SIGSEGV]);
  });

  it('VM moves the directory to frame 0: the access resumes through it, and later accesses too', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = holed(w);
    pager(w, (_, addr) => {
      a.mapPage(addr - (addr % PAGE));
      w.k.mem.copy(0, a.kp.dirFrame * PAGE, PAGE);
      return 0;
    });
    expect(await a.do((p) => p.read(a.base + PAGE - 8, 16))).toEqual(holedBytes(PAGE - 8, 16));
    expect(a.kp.dirFrame).toBe(0);
    await a.do((p) => p.write(a.base + PAGE, pattern(8, 9)));
    expect(await a.do((p) => p.read(a.base + PAGE - 4, 12))).toEqual(
      Uint8Array.from([...holedBytes(PAGE - 4, 4), ...pattern(8, 9)]),
    );
    expect(a.kp.inUse).toBe(true);
  });
});

describe('a fault at the end of the quantum', () => {
  it('the process gives up the CPU to the next ready one before its fault goes to VM; both accesses complete', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB, quantum: 1 });
    const a = w.actor(20, 'A', { paged: true });
    const b = w.actor(21, 'B', { paged: true });
    const seen = pager(w, (ep, addr) => {
      (ep === a.ep ? a : b).mapPage(addr - (addr % PAGE));
      return null;
    });
    const bytes = pattern(PAGE + 200, 5);
    const ha = a.start((p) => p.write(a.base + 100, bytes));
    const hb = b.start((p) => p.write(b.base + 100, bytes));
    await w.k.run();
    expect([ha.done(), hb.done()]).toEqual([true, true]);
    expect(seen).toEqual([
      [a.ep, a.base + 100, true],
      [b.ep, b.base + 100, true],
      [a.ep, a.base + PAGE, true],
      [b.ep, b.base + PAGE, true],
    ]);
    expect([a.peek(a.base + 100, bytes.length), b.peek(b.base + 100, bytes.length)]).toEqual([bytes, bytes]);
  });
});

describe('an empty access', () => {
  it('does nothing, even at an address that is no address or outside the process', async () => {
    const w = grantWorld({ ramBytes: 8 * MiB });
    const a = w.actor(20, 'A');
    const b = w.actor(21, 'B', { paged: true });
    for (const x of [a, b]) {
      const got = await x.do(async (p) => [
        (await p.read(-1, 0)).length,
        (await p.read(ADDRESS_SPACE_BYTES + 8, 0)).length,
        (await p.read(0.5, 0)).length,
      ]);
      await x.do((p) => p.write(ADDRESS_SPACE_BYTES, new Uint8Array(0)));
      expect([got, x.kp.inUse]).toEqual([[0, 0, 0], true]);
    }
  });
});
