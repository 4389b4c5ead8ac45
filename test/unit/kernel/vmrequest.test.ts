// The kernel → VM memory-request queue (src/kernel/vmrequest.ts) against a VM that fetches requests only when the
// test lets it: requests wait newest first, VM is notified once per empty queue, the processes a request names
// are held until VM answers (both sides of a COWMAP), a reply with nothing in progress is ESRCH, and a requestor
// that dies while its request waits releases its holds.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../helpers/grantworld.ts';
import { killAndReuseSlot } from '../../helpers/pagedworld.ts';
import type { Actor, World } from '../../helpers/grantworld.ts';
import { SYSTEM, VM_PROC_NR } from '../../../src/include/endpoint.ts';
import { ESRCH, OK } from '../../../src/include/errno.ts';
import {
  SYS_VMCTL,
  VMCTL_MEMREQ_GET,
  VMCTL_MEMREQ_REPLY,
  VMPTYPE_CHECK,
  VMPTYPE_COWMAP,
  VMPTYPE_SMAP,
} from '../../../src/include/com.ts';
import { numField } from '../../../src/include/ipc.ts';
import { CPF_MAP, CPF_READ } from '../../../src/include/safecopies.ts';
import { makeSystemPriv } from '../../../src/kernel/priv.ts';
import { toProgram } from '../../../src/libsys/proc.ts';

const PAGE = 4096;
const ALL = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' } as const;

/**
 * A VM that handles memory requests only when the admin actor sends it a message: each fetched request is
 * logged as [type, requestor, target] and answered OK after mapping the target's pages (CHECK) or copying the
 * source's bytes (COWMAP). A message with `bogus` set makes it reply for that requestor instead, logging the result.
 */
function gatedVm(w: World, admin: Actor, actors: Actor[]) {
  const log: unknown[] = [];
  const byEp = (e: number): Actor | undefined => actors.find((a) => a.ep === e);
  w.k.createProcess({
    slot: VM_PROC_NR,
    name: 'vm',
    priv: makeSystemPriv(w.k.newPrivId(), ALL),
    priority: 2,
    generation: 0,
    program: toProgram(w.k, async (p) => {
      for (;;) {
        const go = await p.receive(admin.ep);
        if (go.bogus !== undefined) {
          log.push([
            'reply',
            (
              await p.kernelCall({
                type: SYS_VMCTL,
                request: VMCTL_MEMREQ_REPLY,
                requestor: go.bogus,
                value: OK,
              })
            ).type,
          ]);
          continue;
        }
        for (;;) {
          const r = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_MEMREQ_GET });
          if (r.type === ESRCH) break;
          const type = numField(r, 'reqType');
          const t = byEp(numField(r, 'target'));
          const addr = numField(r, 'addr');
          log.push([type, numField(r, 'requestor'), numField(r, 'target')]);
          if (t !== undefined && type === VMPTYPE_CHECK) t.mapPage(addr - (addr % PAGE));
          if (t !== undefined && type === VMPTYPE_COWMAP)
            t.poke(
              addr,
              byEp(numField(r, 'ep2'))?.peek(numField(r, 'addr2'), numField(r, 'length')) ??
                new Uint8Array(0),
            );
          await p.kernelCall({
            type: SYS_VMCTL,
            request: VMCTL_MEMREQ_REPLY,
            requestor: numField(r, 'requestor'),
            value: OK,
          });
        }
      }
    }),
  });
  return log;
}

/** A granter G with one page granted to each of A and B, unmapped (a copy from it needs a CHECK of G). */
async function setup() {
  const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
  const admin = w.actor(20, 'admin');
  const g = w.actor(21, 'G', { paged: true });
  const a = w.actor(22, 'A', { paged: true });
  const b = w.actor(23, 'B', { paged: true });
  a.mapPage(a.base);
  b.mapPage(b.base);
  const log = gatedVm(w, admin, [g, a, b]);
  const ida = (await g.do((p) => p.cpf.grantDirect(a.ep, g.base, PAGE, CPF_READ))).id;
  const idb = (await g.do((p) => p.cpf.grantDirect(b.ep, g.base, PAGE, CPF_READ))).id;
  const copy = (x: Actor, id: number) => x.start((p) => p.sys.safecopyFrom(g.ep, id, 0, x.base, 16));
  const notifications = () =>
    w.trace.filter((e) => e.kind === 'ipc' && e.op === 'notify' && e.from === SYSTEM && e.to === VM_PROC_NR)
      .length;
  return { w, admin, g, a, b, log, ida, idb, copy, notifications };
}

describe('VM requests', () => {
  it('wait newest first, notify VM once, hold the target until answered; a reply with nothing in progress is ESRCH', async () => {
    const { w, admin, g, a, b, log, ida, idb, copy, notifications } = await setup();
    const ca = copy(a, ida);
    const cb = copy(b, idb);
    const ran = g.start(() => Promise.resolve('G ran'));
    await w.k.run();
    expect([ca.done(), cb.done(), ran.done(), g.kp.vmHolds]).toEqual([false, false, false, 2]);
    expect([w.k.counts.vmRequests, notifications()]).toEqual([2, 1]);
    const posts = w.trace.filter((e) => e.kind === 'vmreq' && e.op === 'post');
    expect(posts.map((e) => (e.kind === 'vmreq' ? [e.requestor, e.reqType, e.target] : []))).toEqual([
      [a.ep, VMPTYPE_CHECK, g.ep],
      [b.ep, VMPTYPE_CHECK, g.ep],
    ]);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect(log).toEqual([
      [VMPTYPE_CHECK, b.ep, g.ep],
      [VMPTYPE_CHECK, a.ep, g.ep],
    ]);
    expect([ca.result(), cb.result(), ran.result(), g.kp.vmHolds]).toEqual([OK, OK, 'G ran', 0]);
    const replies = w.trace.filter((e) => e.kind === 'vmreq' && e.op === 'reply');
    expect(
      replies.map((e) => (e.kind === 'vmreq' ? [e.requestor, e.reqType, e.target, e.result] : [])),
    ).toEqual([
      [b.ep, VMPTYPE_CHECK, g.ep, OK],
      [a.ep, VMPTYPE_CHECK, g.ep, OK],
    ]);
    // Nothing in progress for A any more, and no process 999.
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1, bogus: a.ep }));
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1, bogus: 999 }));
    expect(log.slice(2)).toEqual([
      ['reply', ESRCH],
      ['reply', ESRCH],
    ]);
  });

  it('a requestor that dies while its request waits: the request is gone and its hold on the target released', async () => {
    const { w, admin, g, a, b, log, ida, idb, copy, notifications } = await setup();
    const ca = copy(a, ida);
    const ran = g.start(() => Promise.resolve('G ran'));
    await w.k.run();
    expect(g.kp.vmHolds).toBe(1);
    w.k.terminate(a.kp, { code: 0, signal: 9 });
    await w.k.run();
    expect([ca.done(), ran.done(), g.kp.vmHolds]).toEqual([false, true, 0]);
    // B's request finds the queue empty again: VM is notified a second time, and fetches B's request alone.
    const cb = copy(b, idb);
    await w.k.run();
    expect(notifications()).toBe(2);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect([log, cb.result()]).toEqual([[[VMPTYPE_CHECK, b.ep, g.ep]], OK]);
  });

  it("of two waiting requests, the dead requestor's goes and the other is still served", async () => {
    const { w, admin, g, a, b, log, ida, idb, copy } = await setup();
    const ca = copy(a, ida);
    const cb = copy(b, idb);
    await w.k.run();
    expect(g.kp.vmHolds).toBe(2);
    w.k.terminate(a.kp, { code: 0, signal: 9 });
    expect(g.kp.vmHolds).toBe(1);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect([log, ca.done(), cb.result(), g.kp.vmHolds]).toEqual([
      [[VMPTYPE_CHECK, b.ep, g.ep]],
      false,
      OK,
      0,
    ]);
  });

  it('a COWMAP holds both the destination and the source process until VM answers', async () => {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const admin = w.actor(20, 'admin');
    const g = w.actor(21, 'G', { paged: true });
    const r = w.actor(22, 'R', { paged: true });
    for (const x of [g, r]) for (let i = 0; i < 3; i++) x.mapPage(x.base + i * PAGE);
    g.poke(g.base + PAGE, Uint8Array.of(9, 8, 7));
    const log = gatedVm(w, admin, [g, r]);
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 3 * PAGE, CPF_READ))).id;
    const c = r.start((p) => p.sys.safecopyFrom(g.ep, id, PAGE, r.base + PAGE, PAGE));
    const ran = g.start(() => Promise.resolve('G ran'));
    await w.k.run();
    expect([c.done(), ran.done(), g.kp.vmHolds, r.kp.vmHolds]).toEqual([false, false, 1, 1]);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect(log).toEqual([[VMPTYPE_COWMAP, r.ep, r.ep]]);
    expect([c.result(), ran.result(), g.kp.vmHolds, r.kp.vmHolds, [...r.peek(r.base + PAGE, 3)]]).toEqual([
      OK,
      'G ran',
      0,
      0,
      [9, 8, 7],
    ]);
  });

  /** R maps G's page (SMAP) through a VM that waits for the admin: returns the pending call. */
  async function smapWaiting() {
    const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
    const admin = w.actor(20, 'admin');
    const g = w.actor(21, 'G', { paged: true });
    const r = w.actor(22, 'R', { paged: true });
    g.mapPage(g.base);
    const log = gatedVm(w, admin, [g, r]);
    const id = (await g.do((p) => p.cpf.grantDirect(r.ep, g.base, PAGE, CPF_READ | CPF_MAP))).id;
    const c = r.start((p) => p.sys.safemap(g.ep, id, 0, r.base, PAGE, false));
    return { w, admin, g, r, log, c };
  }

  it('an SMAP holds the memory owner as well as the grantee until VM answers', async () => {
    const { w, admin, g, r, log, c } = await smapWaiting();
    const ran = g.start(() => Promise.resolve('G ran'));
    await w.k.run();
    expect([c.done(), ran.done(), g.kp.vmHolds, r.kp.vmHolds]).toEqual([false, false, 1, 1]);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect(log).toEqual([[VMPTYPE_SMAP, r.ep, r.ep]]);
    expect([c.result(), ran.result(), g.kp.vmHolds, r.kp.vmHolds]).toEqual([OK, 'G ran', 0, 0]);
  });

  it('a held owner that dies before VM answers: the process reusing its slot keeps holding nothing', async () => {
    const { w, admin, g, r, c } = await smapWaiting();
    await w.k.run();
    const next = killAndReuseSlot(w.k, g.kp, 'G2');
    expect(next.endpoint).not.toBe(g.ep);
    await admin.do((p) => p.send(VM_PROC_NR, { type: 1 }));
    expect([c.result(), next.vmHolds, r.kp.vmHolds]).toEqual([OK, 0, 0]);
  });
});
