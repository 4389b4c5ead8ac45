// spec/vm.md §11.32, 34–37 (kernel requests) through the real kernel calls: safecopy and safemap between
// system services started through RS, the kernel posting CHECK / COWMAP / SMAP / SUNMAP to the real VM. The
// VM-only versions are in test/unit/servers/vm/region.test.ts. Sanity level 'functions' (the kernel's and DS's
// checkers run at every kernel entry); the host runs every checker between actions.
import { describe, expect, it } from 'vitest';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../../src/include/com.ts';
import { ANY } from '../../../src/include/endpoint.ts';
import { EDEADSRCDST, EFAULT, EINVAL, OK } from '../../../src/include/errno.ts';
import type { TraceEvent } from '../../../src/include/trace.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../../src/include/vm.ts';
import { PTE } from '../../../src/hw/mmu.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import { safemapRecords } from '../../../src/kernel/system/do_safemap.ts';
import { vmMmap, vmMunmap } from '../../../src/libsys/vm.ts';
import { VMF_EXITING } from '../../../src/servers/vm/glo.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';
import { pattern } from '../../helpers/bytes.ts';

const RWM = CPF_READ | CPF_WRITE | CPF_MAP;
const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

async function boot(cow = true): Promise<System> {
  return createSystem({ sanity: 'functions', trace: 'memory', cowSafecopy: cow });
}

async function grant(s: Driven, to: number, addr: number, len: number, access: number): Promise<number> {
  const g = await s.do((p) => p.cpf.grantDirect(to, addr, len, access));
  expect(g.errno).toBe(OK);
  return g.id;
}

/** Host-side read of one byte of ep's memory, through VM's metadata. */
function byteAt(sys: System, ep: number, v: number): number {
  const pa = sys.vm.physAddr(ep, v);
  if (pa < 0) throw new Error(`byteAt: 0x${v.toString(16)} of ${ep} not present`);
  const b = new Uint8Array(1);
  sys.mem.read(pa, b, 0, 1);
  return b[0] ?? -1;
}

type VmReq = Extract<TraceEvent, { kind: 'vmreq' }>;
const vmreqs = (sys: System, from = 0): VmReq[] =>
  sys.trace.slice(from).filter((e): e is VmReq => e.kind === 'vmreq');

/** G forks a child that stays alive (held: a system process's child starts without privileges). */
async function forkHeld(g: Driven): Promise<number> {
  const child = await g.do((p) => p.fork(async (c) => c.receive(ANY).then(() => 0), `${g.label}-child`));
  expect(child).toBeGreaterThan(0);
  return child;
}

describe('§11.32 CHECK through safecopy', () => {
  it('a source range across two adjacent regions → one CHECK, OK; across a hole → EFAULT, nothing copied', async () => {
    const sys = await boot(false);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    const [a, b, c] = await g.do(async (p) => {
      const x = await vmMmap(p, 0, PAGE, MAP_ANON | MAP_PRIVATE);
      const y = await vmMmap(p, 0, PAGE, MAP_ANON | MAP_PRIVATE);
      const z = await vmMmap(p, 0, PAGE, MAP_ANON | MAP_PRIVATE);
      await p.write(x + PAGE / 2, pattern(PAGE / 2, 1));
      return [x, y, z];
    });
    expect([b - a, c - b]).toEqual([PAGE, PAGE]);
    expect(sys.vm.regions(g.ep).filter((x) => x.vaddr === a || x.vaddr === b).length).toBe(2);
    const id = await grant(g, r.ep, a, 3 * PAGE, CPF_READ);
    // [a + PAGE/2, a + PAGE/2 + PAGE): the tail of region a (touched) and the head of region b (never touched).
    const mark = sys.trace.length;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, PAGE / 2, r.buf + 1, PAGE))).toBe(OK);
    const checks = vmreqs(sys, mark).filter((e) => e.reqType === VMPTYPE_CHECK && e.op === 'reply');
    expect(checks.find((e) => e.target === g.ep)?.result).toBe(OK);
    expect(sys.vm.refAt(g.ep, b)?.refcount).toBe(1);
    const want = new Uint8Array(PAGE);
    want.set(pattern(PAGE / 2, 1), 0);
    expect([...(await r.do((p) => p.read(r.buf + 1, PAGE)))]).toEqual([...want]);
    sys.sanityCheck();
    // Now a hole: region b goes away; a copy from a through c crosses it.
    expect(await g.do((p) => vmMunmap(p, b, PAGE))).toBe(OK);
    await r.do((p) => p.write(r.buf + 2 * PAGE, fill(3 * PAGE, 0xee)));
    const mark2 = sys.trace.length;
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, PAGE / 2, r.buf + 2 * PAGE, 2 * PAGE))).toBe(
      EFAULT,
    );
    const replies = vmreqs(sys, mark2).filter((e) => e.op === 'reply');
    expect(replies.map((e) => [e.reqType, e.target, e.result])).toEqual([[VMPTYPE_CHECK, g.ep, EFAULT]]);
    expect([...new Set(await r.do((p) => p.read(r.buf + 2 * PAGE, 3 * PAGE)))]).toEqual([0xee]);
    sys.sanityCheck();
  });

  it('a source with page 0 COW-shared and page 1 never touched: the CHECK (write 0) fills page 1, page 0 stays shared (refcount 2)', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    await g.do((p) => p.write(g.buf, pattern(PAGE, 5)));
    const child = await forkHeld(g);
    const shared = sys.vm.refAt(g.ep, g.buf);
    expect(shared?.refcount).toBe(2);
    expect(sys.vm.refAt(g.ep, g.buf + PAGE)).toBeNull();
    const id = await grant(g, r.ep, g.buf, 2 * PAGE, CPF_READ);
    const mark = sys.trace.length;
    // Offsets not congruent: a plain copy, checked source first.
    expect(await r.do((p) => p.sys.safecopyFrom(g.ep, id, 0, r.buf + 3, 2 * PAGE - 3))).toBe(OK);
    const posts = vmreqs(sys, mark).filter((e) => e.op === 'post');
    expect(posts[0]).toMatchObject({ reqType: VMPTYPE_CHECK, target: g.ep });
    expect(posts.some((e) => e.reqType === VMPTYPE_COWMAP)).toBe(false);
    expect(sys.vm.refAt(g.ep, g.buf)).toMatchObject({ phys: shared?.phys, refcount: 2, mode: 'private' });
    expect(sys.vm.refAt(child, g.buf)?.phys).toBe(shared?.phys);
    expect(sys.vm.pte(g.ep, g.buf) & PTE.W).toBe(0);
    expect(sys.vm.refAt(g.ep, g.buf + PAGE)?.refcount).toBe(1);
    const want = new Uint8Array(2 * PAGE - 3);
    want.set(pattern(PAGE, 5).subarray(0, PAGE));
    expect([...(await r.do((p) => p.read(r.buf + 3, 2 * PAGE - 3)))]).toEqual([...want]);
    sys.sanityCheck();
  });
});

describe('§11.34–36 SMAP and SUNMAP through safemap', () => {
  it('§11.34 safemap of a COW-shared page: the owner gets a private copy first; the other COW sharer keeps the old data', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r = await drivenActor(sys, 'R');
    await g.do((p) => p.write(g.buf, fill(PAGE, 1)));
    const child = await forkHeld(g);
    const before = sys.vm.refAt(child, g.buf)?.phys;
    expect(sys.vm.refAt(g.ep, g.buf)?.refcount).toBe(2);
    const id = await grant(g, r.ep, g.buf, PAGE, RWM);
    const mark = sys.trace.length;
    expect(await r.do((p) => p.sys.safemap(g.ep, id, 0, r.buf, PAGE, true))).toBe(OK);
    expect(
      vmreqs(sys, mark)
        .filter((e) => e.op === 'reply')
        .map((e) => [e.reqType, e.result]),
    ).toEqual([[VMPTYPE_SMAP, OK]]);
    expect(sys.vm.refAt(child, g.buf)).toMatchObject({ phys: before, refcount: 1, mode: 'private' });
    const owner = sys.vm.refAt(g.ep, g.buf);
    expect(owner?.mode).toBe('smap');
    expect(owner?.phys).not.toBe(before);
    expect(sys.vm.refAt(r.ep, r.buf)?.phys).toBe(owner?.phys);
    await r.do((p) => p.writeU8(r.buf + 9, 2));
    expect(await g.do((p) => p.readU8(g.buf + 9))).toBe(2);
    await g.do((p) => p.writeU8(g.buf + 10, 3));
    expect(await r.do((p) => p.readU8(r.buf + 10))).toBe(3);
    expect(byteAt(sys, child, g.buf + 9)).toBe(1);
    expect(byteAt(sys, child, g.buf + 10)).toBe(1);
    sys.sanityCheck();
  });

  it('§11.35 a writable safemap from a grantee whose own mapping is read-only → EFAULT; read-only → OK', async () => {
    const sys = await boot(true);
    const o = await drivenActor(sys, 'O');
    const m = await drivenActor(sys, 'M');
    const r = await drivenActor(sys, 'R');
    await o.do((p) => p.write(o.buf, fill(PAGE, 4)));
    const om = await grant(o, m.ep, o.buf, PAGE, CPF_READ | CPF_MAP);
    expect(await m.do((p) => p.sys.safemap(o.ep, om, 0, m.buf, PAGE, false))).toBe(OK);
    expect(sys.vm.refAt(m.ep, m.buf)).toMatchObject({ mode: 'smap', smapWritable: false });
    // M hands its (read-only) mapped page on with a grant that claims write access.
    const mr = await grant(m, r.ep, m.buf, PAGE, RWM);
    const mark = sys.trace.length;
    expect(await r.do((p) => p.sys.safemap(m.ep, mr, 0, r.buf, PAGE, true))).toBe(EFAULT);
    expect(
      vmreqs(sys, mark)
        .filter((e) => e.op === 'reply')
        .map((e) => [e.reqType, e.target, e.result]),
    ).toEqual([[VMPTYPE_SMAP, r.ep, EFAULT]]);
    expect(safemapRecords(sys.kernel).filter((x) => x.grantee === r.ep)).toEqual([]);
    expect(sys.vm.refAt(r.ep, r.buf)).toBeNull();
    sys.sanityCheck();
    expect(await r.do((p) => p.sys.safemap(m.ep, mr, 0, r.buf, PAGE, false))).toBe(OK);
    expect(await r.do((p) => p.readU8(r.buf + 1))).toBe(4);
    await o.do((p) => p.writeU8(o.buf + 1, 5));
    expect(await r.do((p) => p.readU8(r.buf + 1))).toBe(5);
    sys.sanityCheck();
  });

  it('§11.36 safeunmap: the grantee keeps a private snapshot, the owner is unchanged; the last smap sharer reverts to private', async () => {
    const sys = await boot(true);
    const g = await drivenActor(sys, 'G');
    const r1 = await drivenActor(sys, 'R1');
    const r2 = await drivenActor(sys, 'R2');
    await g.do((p) => p.write(g.buf, fill(PAGE, 1)));
    const id = await grant(g, ANY, g.buf, PAGE, RWM);
    expect(await r1.do((p) => p.sys.safemap(g.ep, id, 0, r1.buf, PAGE, true))).toBe(OK);
    expect(await r2.do((p) => p.sys.safemap(g.ep, id, 0, r2.buf, PAGE, true))).toBe(OK);
    await r1.do((p) => p.writeU8(r1.buf, 7));
    const block = sys.vm.refAt(g.ep, g.buf);
    expect(block).toMatchObject({ mode: 'smap', refcount: 3 });
    let mark = sys.trace.length;
    expect(await r1.do((p) => p.sys.safeunmap(r1.buf))).toBe(OK);
    expect(
      vmreqs(sys, mark)
        .filter((e) => e.op === 'reply')
        .map((e) => [e.reqType, e.target, e.result]),
    ).toEqual([[VMPTYPE_SUNMAP, r1.ep, OK]]);
    expect(sys.vm.refAt(r1.ep, r1.buf)).toMatchObject({ mode: 'private', refcount: 1 });
    expect(sys.vm.refAt(r1.ep, r1.buf)?.phys).not.toBe(block?.phys);
    expect(sys.vm.refAt(g.ep, g.buf)).toMatchObject({ phys: block?.phys, mode: 'smap', refcount: 2 });
    await g.do((p) => p.writeU8(g.buf, 8));
    expect(await r1.do((p) => p.readU8(r1.buf))).toBe(7);
    expect(await r2.do((p) => p.readU8(r2.buf))).toBe(8);
    await r1.do((p) => p.writeU8(r1.buf, 9));
    expect(await g.do((p) => p.readU8(g.buf))).toBe(8);
    sys.sanityCheck();
    mark = sys.trace.length;
    expect(await r2.do((p) => p.sys.safeunmap(r2.buf))).toBe(OK);
    expect(
      vmreqs(sys, mark)
        .filter((e) => e.op === 'reply')
        .map((e) => [e.reqType, e.result]),
    ).toEqual([[VMPTYPE_SUNMAP, OK]]);
    expect(sys.vm.refAt(g.ep, g.buf)).toMatchObject({ phys: block?.phys, mode: 'private', refcount: 1 });
    expect(sys.vm.refAt(r2.ep, r2.buf)).toMatchObject({ mode: 'private', refcount: 1 });
    await g.do((p) => p.writeU8(g.buf, 10));
    expect(sys.vm.pte(g.ep, g.buf) & PTE.W).toBe(PTE.W);
    expect(await r2.do((p) => p.readU8(r2.buf))).toBe(8);
    expect(safemapRecords(sys.kernel)).toEqual([]);
    sys.sanityCheck();
  });
});

describe('§11.37 a kernel request naming a process VM has already released → EDEADSRCDST', () => {
  // The granter G is being killed: PM has had VM_WILLEXIT answered and is about to send VM_EXIT. The host holds
  // VM (as sys_runctl RC_STOP would) so that VM receives VM_EXIT but has not yet handled it when R's safecopy
  // posts its request naming G (G is still live for the kernel and for VM). Released, VM frees G, then takes
  // the request: G is gone → EDEADSRCDST; the kernel restarts the copy, which finds the granter dead → EINVAL.
  for (const kind of ['CHECK (source never touched)', 'COWMAP (source present)'] as const) {
    it(kind, async () => {
      const sys = await boot(true);
      const g = await drivenActor(sys, 'G');
      const r = await drivenActor(sys, 'R');
      const gEp = g.ep;
      const cow = kind.startsWith('COWMAP');
      if (cow) await g.do((p) => p.write(g.buf, fill(2 * PAGE, 6)));
      const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.buf, 2 * PAGE, CPF_READ))).id;
      expect(id).toBeGreaterThanOrEqual(0);
      sys.sanityCheck();
      const pm = sys.proc('pm');
      const vm = sys.proc('vm');
      if (pm === null || vm === null) throw new Error('no pm or vm');
      expect(sys.kill(gEp)).toBe(true);
      const stop = await sys.run({
        until: () => ((sys.vm.process(gEp)?.flags ?? 0) & VMF_EXITING) !== 0 && sys.kernel.current === pm,
      });
      expect(stop.reason).toBe('until');
      expect(vm.rts & RTS.RECEIVING).toBe(RTS.RECEIVING);
      sys.kernel.setRts(vm, RTS.PROC_STOP);
      const mark = sys.trace.length;
      // CHECK: offsets not congruent (a plain copy, source checked first); COWMAP: page-aligned whole pages.
      const copy = r.start((p) =>
        cow
          ? p.sys.safecopyFrom(gEp, id, 0, r.buf, 2 * PAGE)
          : p.sys.safecopyFrom(gEp, id, 0, r.buf + 1, 2 * PAGE - 1),
      );
      await sys.run();
      // VM holds PM's VM_EXIT unhandled; R waits on its request naming G.
      expect(copy.done()).toBe(false);
      expect(sys.vm.process(gEp)).not.toBeNull();
      expect(sys.kernel.liveProc(gEp)).not.toBeNull();
      const want = cow ? VMPTYPE_COWMAP : VMPTYPE_CHECK;
      expect(vmreqs(sys, mark).map((e) => [e.op, e.reqType, e.target])).toEqual([
        ['post', want, cow ? r.ep : gEp],
      ]);
      sys.kernel.clearRts(vm, RTS.PROC_STOP);
      await sys.run();
      expect(copy.result()).toBe(EINVAL);
      const replies = vmreqs(sys, mark).filter((e) => e.op === 'reply');
      expect(replies.map((e) => [e.reqType, e.result])).toEqual([[want, EDEADSRCDST]]);
      expect(sys.kernel.liveProc(gEp)).toBeNull();
      expect(sys.vm.process(gEp)).toBeNull();
      expect(sys.vm.refAt(r.ep, r.buf)).toBeNull();
      expect([...new Set(await r.do((p) => p.read(r.buf, 2 * PAGE)))]).toEqual([0]);
      sys.sanityCheck();
    });
  }
});
