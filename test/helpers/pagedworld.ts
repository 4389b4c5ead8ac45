// Two paged processes on a bare kernel and a fake VM that serves the kernel's memory requests the simple way: for
// CHECK, COWMAP, SMAP and SUNMAP it maps the missing pages of the target's range (COWMAP copies the source's bytes
// in) and answers OK, unless the test's hook answers first. Every request is logged. Used by the tests of the
// grant calls that wait for VM (test/unit/kernel/system/do_safecopy.test.ts, do_safemap.test.ts); killAndReuseSlot.
import { ALL, grantWorld } from './grantworld.ts';
import type { Actor, World } from './grantworld.ts';
import { EINVAL, OK } from '../../src/include/errno.ts';
import { VMPTYPE_COWMAP } from '../../src/include/com.ts';
import { numField } from '../../src/include/ipc.ts';
import { ANY } from '../../src/include/endpoint.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { makeSystemPriv } from '../../src/kernel/priv.ts';
import type { KProc } from '../../src/kernel/proc.ts';
import { toProgram } from '../../src/libsys/proc.ts';
import { PAGE } from './bytes.ts';

export { PAGE };

/** A memory request as the fake VM saw it: type, target, start address, length. */
export type VmReq = [type: number, target: number, addr: number, length: number];

/** A grant world with a fake VM, G (slot 20) and R (slot 21), both paged; `actor` adds paged actors VM serves too. */
export interface PagedWorld extends World {
  g: Actor;
  r: Actor;
  log: VmReq[];
  /** A paged actor the fake VM serves. */
  pagedActor(slot: number, name: string): Actor;
}

/** A paged world; `hook` sees each request first and may answer it (a number) instead of the default. */
export function pagedWorld(hook: (q: VmReq, w: World) => number | undefined = () => undefined): PagedWorld {
  const w = grantWorld();
  const log: VmReq[] = [];
  const byEp = new Map<number, Actor>();
  w.fakeVm((m) => {
    const q: VmReq = [
      numField(m, 'reqType'),
      numField(m, 'target'),
      numField(m, 'addr'),
      numField(m, 'length'),
    ];
    log.push(q);
    const answer = hook(q, w);
    if (answer !== undefined) return answer;
    const t = byEp.get(q[1]);
    if (t === undefined) return EINVAL;
    for (let v = q[2] - (q[2] % PAGE); v < q[2] + q[3]; v += PAGE) if (!isMapped(t, v)) t.mapPage(v);
    const s = byEp.get(numField(m, 'ep2'));
    if (q[0] === VMPTYPE_COWMAP && s !== undefined) t.poke(q[2], s.peek(numField(m, 'addr2'), q[3]));
    return OK;
  });
  const pagedActor = (slot: number, name: string): Actor => {
    const a = w.actor(slot, name, { paged: true });
    byEp.set(a.ep, a);
    return a;
  };
  return { ...w, g: pagedActor(20, 'G'), r: pagedActor(21, 'R'), log, pagedActor };
}

/** Whether virtual page `v` of a paged actor is mapped. */
export function isMapped(a: Actor, v: number): boolean {
  try {
    a.peek(v, 1);
    return true;
  } catch {
    return false;
  }
}

/** Maps the first `n` pages of a paged actor. */
export function mapPages(a: Actor, n: number): void {
  for (let i = 0; i < n; i++) a.mapPage(a.base + i * PAGE);
}

/** Kills `victim` and starts a process (waiting in receive) in its slot, one generation on: a new endpoint. */
export function killAndReuseSlot(k: Kernel, victim: KProc, name: string): KProc {
  const slot = victim.slot;
  k.terminate(victim, { code: 0, signal: 9 });
  return k.createProcess({
    slot,
    name,
    program: toProgram(k, async (p) => {
      await p.receive(ANY);
    }),
    priv: makeSystemPriv(k.newPrivId(), ALL),
    priority: 4,
    generation: 1,
  });
}
