// The memory driver (src/servers/memory/main.ts) beyond what memtest covers: its own address space, reply
// fields, notifications, the I/O vector cap and check order, malformed fields, RAM disk resizing.
import { describe, expect, it } from 'vitest';
import { DEV_GATHER_S, DEV_READ_S, TASK_REPLY } from '../../../../src/include/com.ts';
import { MEM_PROC_NR } from '../../../../src/include/endpoint.ts';
import { EINVAL, ENXIO, EPERM, OK } from '../../../../src/include/errno.ts';
import {
  IOVEC_ENTRY_BYTES,
  MEM_DEV,
  MIOCRAMSIZE,
  NR_DEVS,
  NR_IOREQS,
  RAM_DEV_FIRST,
  ZERO_DEV,
} from '../../../../src/include/memdev.ts';
import { CPF_READ, CPF_WRITE } from '../../../../src/include/safecopies.ts';
import { MAP_ANON } from '../../../../src/include/vm.ts';
import {
  decodeIovec,
  devGather,
  devIoctl,
  devOpen,
  devRead,
  encodeIovec,
} from '../../../../src/libsys/chardev.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { vmMmap } from '../../../../src/libsys/vm.ts';
import { startTestService } from '../../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';

const PAGE = 4096;
const MEM = MEM_PROC_NR;

/** A booted 16 MiB system and a service running `body` to the end. */
async function withService(body: (p: Proc, sys: System) => Promise<void>): Promise<System> {
  const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'top' });
  let error: unknown = null;
  await startTestService(sys, 'client', async (p) => {
    try {
      await body(p, sys);
    } catch (e) {
      error = e;
    }
  });
  if (error !== null) throw error as Error;
  return sys;
}

/** A buffer of `pages` and a read-write grant of it to the driver. */
async function granted(p: Proc, pages: number): Promise<{ addr: number; gid: number }> {
  const addr = await vmMmap(p, 0, pages * PAGE, MAP_ANON);
  const g = await p.cpf.grantDirect(MEM, addr, pages * PAGE, CPF_READ | CPF_WRITE);
  return { addr, gid: g.id };
}

const driverRegions = (sys: System) =>
  sys.vm.snapshot().processes.find((x) => x.endpoint === MEM)?.regions ?? [];

describe('memory driver', () => {
  it('maps /dev/kmem at start and leaves no /dev/mem window mapped after a transfer', async () => {
    let n = 0;
    const sys = await withService(async (p) => {
      const b = await granted(p, 2);
      n = await devRead(p, MEM, MEM_DEV, 0x9f800, b.gid, 2 * PAGE);
    });
    expect(n).toBe(2 * PAGE);
    const direct = driverRegions(sys).filter((r) => r.flags.includes('DIRECT'));
    expect(direct.map((r) => r.length)).toEqual([sys.config.kernelBytes]);
  });

  it('replies TASK_REPLY with repEndpt = ioEndpt; a notification gets no reply', async () => {
    const replies: unknown[] = [];
    await withService(async (p) => {
      const b = await granted(p, 1);
      await p.notify(MEM);
      const r = await p.sendrec(MEM, {
        type: DEV_READ_S,
        device: ZERO_DEV,
        ioEndpt: p.endpoint,
        count: 8,
        position: 0,
        highpos: 0,
        ioGrant: b.gid,
      });
      replies.push([r.type, r.repEndpt, r.repStatus]);
    });
    expect(replies).toEqual([[TASK_REPLY, expect.any(Number), 8]]);
  });

  it('malformed position or count (not an int of [0, 2^31)) → EINVAL; a bad vector grant is reported before a bad minor', async () => {
    const got: number[] = [];
    await withService(async (p) => {
      const b = await granted(p, 1);
      const ask = async (m: Record<string, unknown>) =>
        (await p.sendrec(MEM, { ioEndpt: p.endpoint, ioGrant: b.gid, ...m, type: m.type as number }))
          .repStatus as number;
      got.push(await ask({ type: DEV_READ_S, device: ZERO_DEV, count: 4, position: -1, highpos: 0 }));
      got.push(await ask({ type: DEV_READ_S, device: ZERO_DEV, count: 1.5, position: 0, highpos: 0 }));
      got.push(await ask({ type: DEV_READ_S, device: ZERO_DEV, count: 2 ** 31, position: 0, highpos: 0 }));
      got.push(
        await ask({ type: DEV_GATHER_S, device: NR_DEVS, count: 1, position: 0, highpos: 0, ioGrant: 12345 }),
      );
      got.push(await ask({ type: DEV_GATHER_S, device: NR_DEVS, count: 1, position: 0, highpos: 0 }));
    });
    expect(got).toEqual([EINVAL, EINVAL, EINVAL, EPERM, ENXIO]);
  });

  it(`uses at most NR_IOREQS (${NR_IOREQS}) vector entries`, async () => {
    let left: number[] = [];
    let r = -1;
    await withService(async (p) => {
      const b = await granted(p, 1);
      const vec = await granted(p, 1);
      const entries = Array.from({ length: NR_IOREQS + 1 }, () => ({ grant: b.gid, size: 4 }));
      await p.write(vec.addr, encodeIovec(entries));
      r = await devGather(p, MEM, ZERO_DEV, 0, vec.gid, entries.length);
      left = decodeIovec(await p.read(vec.addr, entries.length * IOVEC_ENTRY_BYTES)).map((e) => e.size);
    });
    expect(r).toBe(OK);
    expect(left.slice(0, NR_IOREQS).every((s) => s === 0)).toBe(true);
    expect(left[NR_IOREQS]).toBe(4);
  });

  it('MIOCRAMSIZE to a new size gives the old RAM disk back to VM', async () => {
    const free: number[] = [];
    const sys = await withService(async (p, host) => {
      const arg = await granted(p, 1);
      expect(await devOpen(p, MEM, RAM_DEV_FIRST)).toBe(OK);
      for (const size of [64 * PAGE, PAGE]) {
        await p.writeU32(arg.addr, size);
        expect(await devIoctl(p, MEM, RAM_DEV_FIRST, MIOCRAMSIZE, arg.gid)).toBe(OK);
        free.push(host.vm.snapshot().memory.freePages);
      }
    });
    expect(free[1]! - free[0]!).toBe(63);
    expect(driverRegions(sys).some((r) => r.length === PAGE && r.presentPages === 1)).toBe(true);
  });
});
