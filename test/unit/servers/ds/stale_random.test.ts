// spec/ds.md §11.27 (last clause: notifications during the stale window are dropped) and §11.31 (DS invariants
// after every step of random publish / retrieve / delete / subscribe / check / restart sequences), in the whole
// system: services started and restarted by RS, DS over the kernel, sanity level 'functions' (DS's and the
// kernel's checkers at every kernel entry) and sys.sanityCheck() after every kernel entry the host runs.
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { DSF_OVERWRITE } from '../../../../src/include/ds.ts';
import { ANY, DS_PROC_NR, endpointSlot } from '../../../../src/include/endpoint.ts';
import { EEXIST, ENOENT, EPERM, ESRCH, OK } from '../../../../src/include/errno.ts';
import { NOTIFY_MESSAGE } from '../../../../src/include/com.ts';
import { DEFAULT_SERVICE_SPEC } from '../../../../src/include/priv.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import { dsCheck, dsDeleteU32, dsPublishU32, dsRetrieveU32, dsSubscribe } from '../../../../src/libsys/ds.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { serviceInfo } from '../../../../src/servers/rs/main.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import { drivenActor, runStepwise } from '../../../helpers/driven.ts';
import type { Driven } from '../../../helpers/driven.ts';

type IpcEvent = Extract<TraceEvent, { kind: 'ipc' }>;
const dsNotifies = (sys: System, from: number): IpcEvent[] =>
  sys.trace
    .slice(from)
    .filter((e): e is IpcEvent => e.kind === 'ipc' && e.op === 'notify' && e.from === DS_PROC_NR);

/** Drains ds_check until it answers something else than OK; the keys seen and the final answer. */
async function drain(p: Proc): Promise<{ keys: string[]; last: number }> {
  const keys: string[] = [];
  for (;;) {
    const c = await dsCheck(p);
    if (c.result !== OK) return { keys, last: c.result };
    keys.push(c.key);
  }
}

describe('§11.27 notifications during the stale window are dropped', () => {
  // 'dead': the host stops as soon as the old instance is gone (RS has not heard of it yet).
  // 'forked': the host stops once RS has forked the new instance (same slot, next generation) but has not yet
  // republished the label: DS still resolves the label to the dead endpoint.
  for (const when of ['dead', 'forked'] as const) {
    it(`a key the service subscribed to is published while its label is stale (${when}): the notification is lost, the bit is kept`, async () => {
      const sys = await createSystem({ sanity: 'functions', trace: 'memory' });
      const pub = await drivenActor(sys, 'pub', { priv: DEFAULT_SERVICE_SPEC, pages: 1 });
      const seen: { instance: number; source: number; type: number }[] = [];
      const checks: string[][] = [];
      const svc = await drivenActor(sys, 'svc', { priv: DEFAULT_SERVICE_SPEC, pages: 1, maxRestarts: 1 });
      expect(await svc.do((p) => dsSubscribe(p, 'svc\\..*'))).toBe(OK);
      const first = svc.ep;
      const rs = sys.proc('rs');
      if (rs === null) throw new Error('no rs');
      expect(sys.kill(first)).toBe(true);
      const stop = await sys.run({
        until: () =>
          when === 'dead'
            ? sys.kernel.liveProc(first) === null
            : (sys.rs.services.get('svc')?.endpoint ?? first) !== first,
      });
      expect(stop.reason).toBe('until');
      expect(sys.kernel.liveProc(first)).toBeNull();
      const label = (): unknown =>
        sys.ds.entries().find((e) => e.key === 'svc' && e.type.includes('LABEL'))?.value;
      expect(label()).toBe(first);
      // RS is held (as sys_runctl RC_STOP would hold it) while another service publishes.
      sys.kernel.setRts(rs, RTS.PROC_STOP);
      const mark = sys.trace.length;
      const h = pub.start((p) => dsPublishU32(p, 'svc.x', 1));
      await sys.run();
      expect(h.result()).toBe(OK);
      expect(label()).toBe(first);
      const stale = dsNotifies(sys, mark);
      expect(stale.map((e) => e.to)).toEqual([first]);
      expect(stale[0]?.result).not.toBe(OK);
      const sub = sys.ds.subscriptions().find((s) => s.owner === 'svc');
      const slotX = sys.ds.entries().find((e) => e.key === 'svc.x')?.slot;
      expect(sub?.pending).toEqual([slotX]);
      sys.sanityCheck();
      // RS goes on: the new instance gets the label; the stale notification is not replayed to it.
      const newEp = sys.rs.services.get('svc')?.endpoint ?? -1;
      sys.kernel.clearRts(rs, RTS.PROC_STOP);
      await sys.run();
      sys.sanityCheck();
      const second = svc.ep;
      expect(second).not.toBe(first);
      if (when === 'forked') expect(second).toBe(newEp);
      expect(label()).toBe(second);
      // The new instance reuses the dead one's slot (next generation): a notification to the stale endpoint must
      // not reach it.
      expect(endpointSlot(second)).toBe(endpointSlot(first));
      expect(dsNotifies(sys, mark).filter((e) => e.to === second)).toEqual([]);
      const pendingNotify = sys.kernel.liveProc(second)?.notifyFrom.includes(DS_PROC_NR) ?? true;
      expect(pendingNotify).toBe(false);
      // The new instance still owns the subscription: its pending bit reports svc.x; a later publish notifies it.
      const mark2 = sys.trace.length;
      expect(await pub.do((p) => dsPublishU32(p, 'svc.y', 2))).toBe(OK);
      expect(dsNotifies(sys, mark2).map((e) => [e.to, e.result])).toEqual([[second, OK]]);
      const got = await svc.do(async (p) => {
        const m = await p.receive(ANY);
        seen.push({ instance: serviceInfo(p)?.restarts ?? -1, source: m.source, type: m.type });
        const d = await drain(p);
        checks.push(d.keys);
        return d.last;
      });
      expect(got).toBe(ENOENT);
      expect(seen).toEqual([{ instance: 1, source: DS_PROC_NR, type: NOTIFY_MESSAGE }]);
      expect(checks).toEqual([
        ['svc.x', 'svc.y'].sort(
          (a, b) =>
            (sys.ds.entries().find((e) => e.key === a)?.slot ?? 0) -
            (sys.ds.entries().find((e) => e.key === b)?.slot ?? 0),
        ),
      ]);
      sys.sanityCheck();
    });
  }
});

// ------------------------------------------------------------------ §11.31

const KEYS = ['k0', 'k1', 'k2', 'k3'] as const;
const PATTERNS = ['k.*', 'k[01]', 'k2|k3', 'k0'] as const;
const NS = 2;

type Op =
  | { k: 'publish'; who: number; key: number; value: number; overwrite: boolean }
  | { k: 'retrieve'; who: number; key: number }
  | { k: 'delete'; who: number; key: number }
  | { k: 'subscribe'; who: number; pattern: number; overwrite: boolean }
  | { k: 'check'; who: number }
  | { k: 'restart'; who: number };

const who = fc.integer({ min: 0, max: NS - 1 });
const key = fc.integer({ min: 0, max: KEYS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('publish' as const),
      who,
      key,
      value: fc.nat(1000),
      overwrite: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('retrieve' as const), who, key }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), who, key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('subscribe' as const),
      who,
      pattern: fc.integer({ min: 0, max: PATTERNS.length - 1 }),
      overwrite: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('check' as const), who }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('restart' as const), who }) },
);

/** The test's model of DS: entries (value, owner label), subscriptions (pattern) and their pending keys. */
class Model {
  readonly entries = new Map<string, { value: number; owner: string }>();
  readonly subs = new Map<string, RegExp>();
  readonly pending = new Map<string, Set<string>>();

  publish(owner: string, k: string, value: number, overwrite: boolean): number {
    if (this.entries.has(k) && !overwrite) return EEXIST;
    this.entries.set(k, { value, owner });
    for (const [o, re] of this.subs) if (re.test(k)) this.pending.get(o)?.add(k);
    return OK;
  }

  delete(owner: string, k: string): number {
    const e = this.entries.get(k);
    if (e === undefined) return ESRCH;
    if (e.owner !== owner) return EPERM;
    this.entries.delete(k);
    for (const set of this.pending.values()) set.delete(k);
    return OK;
  }

  subscribe(owner: string, pattern: string, overwrite: boolean): number {
    if (this.subs.has(owner) && !overwrite) return EEXIST;
    this.subs.set(owner, new RegExp(`^(?:${pattern})$`));
    this.pending.set(owner, new Set());
    return OK;
  }

  check(owner: string): { keys: string[]; last: number } {
    const set = this.pending.get(owner);
    if (set === undefined) return { keys: [], last: ESRCH };
    const keys = [...set];
    set.clear();
    return { keys, last: ENOENT };
  }
}

async function runDsOps(ops: readonly Op[]): Promise<number> {
  const sys = await createSystem({ sanity: 'functions', trace: null });
  const labels = ['sa', 'sb'];
  const svcs: Driven[] = [];
  for (const l of labels)
    svcs.push(await drivenActor(sys, l, { priv: DEFAULT_SERVICE_SPEC, pages: 1, maxRestarts: 1000 }));
  const usedBefore = sys.ds.store.usedSlots;
  const m = new Model();
  let steps = 0;
  const check = (): void => {
    steps++;
    sys.sanityCheck();
    sys.ds.sanityCheck();
  };
  for (const [i, op] of ops.entries()) {
    const s = svcs[op.who];
    const label = labels[op.who];
    if (s === undefined || label === undefined) throw new Error('bad op');
    const where = `op ${i} ${JSON.stringify(op)}`;
    switch (op.k) {
      case 'publish': {
        const k = KEYS[op.key] ?? 'k0';
        const r = await s.stepwise(
          (p) => dsPublishU32(p, k, op.value, op.overwrite ? DSF_OVERWRITE : 0),
          check,
        );
        expect(r, where).toBe(m.publish(label, k, op.value, op.overwrite));
        break;
      }
      case 'retrieve': {
        const k = KEYS[op.key] ?? 'k0';
        const r = await s.stepwise((p) => dsRetrieveU32(p, k), check);
        const e = m.entries.get(k);
        expect(r, where).toEqual(
          e === undefined ? { result: ESRCH, value: r.value } : { result: OK, value: e.value },
        );
        break;
      }
      case 'delete': {
        const k = KEYS[op.key] ?? 'k0';
        const r = await s.stepwise((p) => dsDeleteU32(p, k), check);
        expect(r, where).toBe(m.delete(label, k));
        break;
      }
      case 'subscribe': {
        const pat = PATTERNS[op.pattern] ?? 'k0';
        const r = await s.stepwise((p) => dsSubscribe(p, pat, op.overwrite ? DSF_OVERWRITE : 0), check);
        expect(r, where).toBe(m.subscribe(label, pat, op.overwrite));
        break;
      }
      case 'check': {
        const r = await s.stepwise(drain, check);
        const want = m.check(label);
        expect({ keys: [...r.keys].sort(), last: r.last }, where).toEqual({
          keys: want.keys.sort(),
          last: want.last,
        });
        // Reports come in slot order.
        const slots = r.keys.map((k) => sys.ds.entries().find((e) => e.key === k)?.slot ?? -1);
        expect(slots, where).toEqual([...slots].sort((a, b) => a - b));
        break;
      }
      case 'restart': {
        const before = s.ep;
        expect(sys.kill(before)).toBe(true);
        await runStepwise(sys, check);
        expect(s.ep, where).not.toBe(before);
        expect(s.alive(), where).toBe(true);
        expect(sys.ds.entries().find((e) => e.key === label)?.value, where).toBe(s.ep);
        break;
      }
    }
    // The model's view of the table and of the subscriptions matches DS's.
    const table = sys.ds.entries().filter((e) => e.key.startsWith('k'));
    expect(table.map((e) => [e.key, e.value, e.owner]).sort(), where).toEqual(
      [...m.entries].map(([k, e]) => [k, e.value, e.owner]).sort(),
    );
    expect(
      sys.ds
        .subscriptions()
        .map((x) => x.owner)
        .sort(),
      where,
    ).toEqual([...m.subs.keys()].sort());
    expect(sys.ds.store.usedSlots, where).toBe(usedBefore + m.entries.size);
  }
  // Down for good: each service's label goes, with its entries and subscription.
  for (const l of labels) sys.stopService(l);
  await runStepwise(sys, check);
  expect(sys.ds.entries().filter((e) => e.key.startsWith('k') || labels.includes(e.key))).toEqual([]);
  expect(sys.ds.subscriptions().filter((x) => labels.includes(x.owner))).toEqual([]);
  sys.sanityCheck();
  return steps;
}

describe('§11.31 DS invariants after every step of random sequences', () => {
  const ops = fc.array(opArb, { minLength: 6, maxLength: 16 });
  fcTest.prop([ops], { numRuns: Number(process.env.DS_STEP_RUNS ?? 6), timeout: 60_000 })(
    'publish/retrieve/delete/subscribe/check/restart: results match a model; every checker passes at every kernel entry',
    async (seq) => {
      expect(await runDsOps(seq)).toBeGreaterThan(0);
    },
  );
});
