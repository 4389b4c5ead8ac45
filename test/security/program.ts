// Random programs for the security properties: operations of V, P and A on grants, safecopy, safemap and their
// own memory, with an attacker's choices among them — granters that are any actor, a made-up endpoint; grant ids
// that are live, revoked or made up; offsets and sizes that are in range, past the end or huge. The runner
// records every grant made (revoked ones stay in the list, marked), so later picks can reuse stale ids.
import { fc } from '@fast-check/vitest';
import { ANY } from '../../src/include/endpoint.ts';
import { OK } from '../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../src/include/safecopies.ts';
import { safemapRecords } from '../../src/kernel/system/do_safemap.ts';
import { PAGE, PAGES } from './secworld.ts';
import type { SecWorld } from './secworld.ts';

/** A process: an actor (0 V, 1 P, 2 A), ANY, or a made-up endpoint. */
export type Who = { actor: number } | { any: true } | { raw: number };
/** A grant handle: one recorded earlier (live or revoked), or a made-up (granter, id). */
export type Handle = { pick: number } | { granter: Who; id: number };

export type Op =
  | { k: 'write'; who: number; page: number; byte: number }
  | { k: 'grant'; who: number; to: Who; page: number; off: number; len: number; access: number }
  | { k: 'indirect'; who: number; to: Who; pick: number }
  /** A magic grant over another actor's page: only VFS's are honoured (spec/grants.md §4 step 4). */
  | { k: 'magic'; who: number; to: Who; from: number; page: number }
  | { k: 'revoke'; who: number; pick: number }
  | {
      k: 'copy';
      who: number;
      byHolder: boolean;
      to: boolean;
      h: Handle;
      off: number;
      bytes: number;
      page: number;
    }
  | {
      k: 'map';
      who: number;
      byHolder: boolean;
      h: Handle;
      offPages: number;
      page: number;
      pages: number;
      writable: boolean;
    }
  | { k: 'unmap'; who: number; page: number };

export interface Recorded {
  /** The owner's endpoint when the grant was made. */
  ownerEp: number;
  id: number;
  to: number;
  revoked: boolean;
}

const actor = fc.integer({ min: 0, max: 2 });
const whoArb: fc.Arbitrary<Who> = fc.oneof(
  { weight: 6, arbitrary: actor.map((a) => ({ actor: a })) },
  { weight: 1, arbitrary: fc.constant({ any: true as const }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 200_000 }).map((raw) => ({ raw })) },
);
const handleArb: fc.Arbitrary<Handle> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(50).map((pick) => ({ pick })) },
  {
    weight: 1,
    arbitrary: fc.record({
      granter: whoArb,
      id: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constantFrom(1 << 20, 2 << 20, 0x7fffffff)),
    }),
  },
);
/** Most uses are made by the process the picked grant was given to; the rest by anyone. */
const byHolder = fc.oneof(
  { weight: 3, arbitrary: fc.constant(true) },
  { weight: 1, arbitrary: fc.constant(false) },
);
const offArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(PAGE - 1, PAGE, 2 * PAGE, 0xffffffff) },
);
const bytesArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: PAGE - 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, PAGE, PAGE + 1, 2 * PAGE, 0x7fffffff) },
);

/** A few whole-page grants between different actors first, so the operations after them have something to use. */
export const setupArb: fc.Arbitrary<Op[]> = fc.array(
  fc
    .record({
      who: actor,
      other: fc.integer({ min: 1, max: 2 }),
      page: fc.integer({ min: 0, max: PAGES - 1 }),
      access: fc.constantFrom(
        CPF_READ | CPF_WRITE | CPF_MAP,
        CPF_READ | CPF_WRITE | CPF_MAP,
        CPF_READ | CPF_MAP,
        CPF_WRITE,
      ),
    })
    .map(({ who, other, page, access }): Op => ({
      k: 'grant',
      who,
      to: { actor: (who + other) % 3 },
      page,
      off: 0,
      len: PAGE,
      access,
    })),
  { minLength: 2, maxLength: 5 },
);

/** One operation of any actor. */
function opArb(): fc.Arbitrary<Op> {
  const page = fc.integer({ min: 0, max: PAGES - 1 });
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('write' as const),
        who: actor,
        page,
        byte: fc.integer({ min: 1, max: 255 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        k: fc.constant('grant' as const),
        who: actor,
        to: whoArb,
        page,
        off: fc.oneof(
          { weight: 3, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) },
        ),
        len: fc.oneof(
          { weight: 1, arbitrary: fc.integer({ min: 1, max: PAGE }) },
          { weight: 3, arbitrary: fc.constantFrom(PAGE, 2 * PAGE) },
        ),
        access: fc.constantFrom(
          CPF_READ,
          CPF_WRITE,
          CPF_READ | CPF_WRITE,
          CPF_READ | CPF_MAP,
          CPF_READ | CPF_WRITE | CPF_MAP,
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant('indirect' as const), who: actor, to: whoArb, pick: fc.nat(50) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('magic' as const),
        who: actor,
        to: whoArb,
        from: actor,
        page: fc.integer({ min: 0, max: PAGES - 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), who: actor, pick: fc.nat(50) }) },
    {
      weight: 5,
      arbitrary: fc.record({
        k: fc.constant('copy' as const),
        who: actor,
        byHolder,
        to: fc.boolean(),
        h: handleArb,
        off: offArb,
        bytes: bytesArb,
        page: fc.integer({ min: 0, max: PAGES - 1 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('map' as const),
        who: actor,
        byHolder,
        h: handleArb,
        offPages: fc.oneof(
          { weight: 4, arbitrary: fc.constant(0) },
          { weight: 1, arbitrary: fc.constant(1) },
        ),
        page: fc.integer({ min: 0, max: PAGES - 2 }),
        pages: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
        writable: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('unmap' as const),
        who: actor,
        page: fc.integer({ min: 0, max: PAGES - 1 }),
      }),
    },
  );
}

/** Runs programs on a world, keeping the record of grants. */
export class Runner {
  readonly grants: Recorded[] = [];
  constructor(readonly w: SecWorld) {}

  ep(who: Who): number {
    if ('actor' in who) return this.w.actors[who.actor]?.ep ?? -1;
    return 'any' in who ? ANY : who.raw;
  }

  /** A handle's (granter endpoint, id): recorded grants are picked among those given to the caller first. */
  resolve(h: Handle, caller: number): { granter: number; id: number } | null {
    if (!('pick' in h)) return { granter: this.ep(h.granter), id: h.id };
    const mine = this.grants.filter((g) => g.to === this.w.actors[caller]?.ep || g.to === ANY);
    const pool = h.pick % 2 === 0 && mine.length > 0 ? mine : this.grants;
    const g = pool[(h.pick >> 1) % Math.max(1, pool.length)];
    return g === undefined ? null : { granter: g.ownerEp, id: g.id };
  }

  /**
   * A use of a handle by the actor the picked grant was given to (byHolder): the same op by that actor with
   * the grant named directly. Null when it does not apply.
   */
  byHolder(op: Op): Op | null {
    if ((op.k !== 'copy' && op.k !== 'map') || !op.byHolder || !('pick' in op.h) || this.grants.length === 0)
      return null;
    const g = this.grants[op.h.pick % this.grants.length];
    const i = this.w.actors.findIndex((a) => a.ep === g?.to);
    if (g === undefined || i < 0) return null;
    const owner = this.w.actors.findIndex((a) => a.ep === g.ownerEp);
    const granter: Who = owner < 0 ? { raw: g.ownerEp } : { actor: owner };
    return { ...op, who: i, byHolder: false, h: { granter, id: g.id } };
  }

  /** Runs one operation in its actor; its result (an errno, or null when there was nothing to do). */
  async apply(op: Op): Promise<number | null> {
    const direct = this.byHolder(op);
    if (direct !== null) return this.apply(direct);
    const d = this.w.actors[op.who];
    if (d === undefined) return null;
    const at = (page: number): number => d.buf + page * PAGE;
    switch (op.k) {
      case 'write':
        // A write to a read-only mapping kills the writer (SIGSEGV, spec/grants.md §6.3): not the point here.
        if (
          safemapRecords(this.w.sys.kernel).some(
            (m) =>
              m.grantee === d.ep &&
              !m.writable &&
              m.granteeAddr <= at(op.page) &&
              at(op.page) < m.granteeAddr + m.bytes,
          )
        )
          return null;
        await d.do((p) => p.write(at(op.page), new Uint8Array(PAGE).fill(op.byte)));
        return OK;
      case 'grant': {
        const to = this.ep(op.to);
        const g = await d.do((p) =>
          p.cpf.grantDirect(
            to,
            at(op.page) + op.off,
            Math.min(op.len, PAGES * PAGE - op.page * PAGE - op.off),
            op.access,
          ),
        );
        if (g.errno === OK) this.grants.push({ ownerEp: d.ep, id: g.id, to, revoked: false });
        return g.errno;
      }
      case 'indirect': {
        const h = this.resolve({ pick: op.pick }, op.who);
        if (h === null) return null;
        const to = this.ep(op.to);
        const g = await d.do((p) => p.cpf.grantIndirect(to, h.granter, h.id));
        if (g.errno === OK) this.grants.push({ ownerEp: d.ep, id: g.id, to, revoked: false });
        return g.errno;
      }
      case 'magic': {
        const to = this.ep(op.to);
        const from = this.w.actors[op.from];
        if (from === undefined) return null;
        const g = await d.do((p) =>
          p.cpf.grantMagic(to, from.ep, from.buf + op.page * PAGE, PAGE, CPF_READ | CPF_WRITE),
        );
        if (g.errno === OK) this.grants.push({ ownerEp: d.ep, id: g.id, to, revoked: false });
        return g.errno;
      }
      case 'revoke': {
        const mine = this.grants.filter((g) => g.ownerEp === d.ep);
        const g = mine[op.pick % Math.max(1, mine.length)];
        if (g === undefined) return null;
        const r = await d.do((p) => p.cpf.revoke(g.id));
        if (r === OK) g.revoked = true;
        return r;
      }
      case 'copy': {
        const h = this.resolve(op.h, op.who);
        if (h === null) return null;
        const mine = at(op.page);
        return d.do((p) =>
          op.to
            ? p.sys.safecopyTo(h.granter, h.id, op.off, mine, op.bytes)
            : p.sys.safecopyFrom(h.granter, h.id, op.off, mine, op.bytes),
        );
      }
      case 'map': {
        const h = this.resolve(op.h, op.who);
        if (h === null) return null;
        return d.do((p) =>
          p.sys.safemap(h.granter, h.id, op.offPages * PAGE, at(op.page), op.pages * PAGE, op.writable),
        );
      }
      case 'unmap':
        return d.do((p) => p.sys.safeunmap(at(op.page)));
    }
  }
}

/** A program: a few setup grants, then 8–22 operations. */
export const programArb: fc.Arbitrary<Op[]> = fc
  .tuple(setupArb, fc.array(opArb(), { minLength: 8, maxLength: 22 }))
  .map(([a, b]) => [...a, ...b]);
