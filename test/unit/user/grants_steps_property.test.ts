// spec/grants.md §8 item 60: the kernel invariants (§6.7, grantSanityCheck) — and VM's and DS's — hold after
// every kernel entry of random grant / safecopy / safemap / safeunmap / revoke / kill sequences between three
// RS services on a real system. The host advances the system one kernel entry at a time (run({maxSteps: 1}))
// and runs sys.sanityCheck() after each. Small budget: every run boots a system.
import { describe, expect } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { OK } from '../../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import { grantSanityCheck, safemapRecords } from '../../../src/kernel/system/do_safemap.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { PAGE, drivenActor, runStepwise } from '../../helpers/driven.ts';
import type { Driven } from '../../helpers/driven.ts';

const N = 3;
const RWM = CPF_READ | CPF_WRITE | CPF_MAP;
const ACCESS = [CPF_READ, CPF_WRITE, CPF_READ | CPF_WRITE, CPF_READ | CPF_MAP, RWM, RWM] as const;

type Op =
  | { k: 'write'; who: number; page: number; byte: number }
  | { k: 'grant'; who: number; to: number; page: number; pages: number; access: number }
  | { k: 'revoke'; who: number; pick: number }
  | { k: 'copyTo' | 'copyFrom'; who: number; pick: number; page: number; offset: number; len: number }
  | { k: 'map'; who: number; pick: number; page: number; writable: boolean }
  | { k: 'unmap'; who: number; page: number }
  | { k: 'kill'; who: number };

const who = fc.integer({ min: 0, max: N - 1 });
const pick = fc.nat(20);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      who,
      page: fc.integer({ min: 0, max: 7 }),
      byte: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('grant' as const),
      who,
      to: who,
      page: fc.integer({ min: 0, max: 3 }),
      pages: fc.integer({ min: 1, max: 3 }),
      access: fc.constantFrom(...ACCESS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revoke' as const), who, pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constantFrom('copyTo' as const, 'copyFrom' as const),
      who,
      pick,
      page: fc.integer({ min: 0, max: 6 }),
      offset: fc.constantFrom(0, 1, 100),
      len: fc.constantFrom(1, PAGE, PAGE + 1, 2 * PAGE),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('map' as const),
      who,
      pick,
      page: fc.integer({ min: 4, max: 7 }),
      writable: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('unmap' as const), who, page: fc.integer({ min: 4, max: 7 }) }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('kill' as const), who }) },
);

interface Grant {
  owner: number;
  ownerEp: number;
  id: number;
  pages: number;
}

async function runOps(ops: readonly Op[], cow: boolean): Promise<{ steps: number }> {
  const sys: System = await createSystem({ sanity: 'functions', cowSafecopy: cow, trace: null });
  const procs: Driven[] = [];
  for (const label of ['A', 'B', 'C']) procs.push(await drivenActor(sys, label, { pages: 8 }));
  const grants: Grant[] = [];
  let steps = 0;
  const check = (): void => {
    steps++;
    sys.sanityCheck();
    grantSanityCheck(sys.kernel);
  };
  const at = (i: number): Driven => {
    const d = procs[i];
    if (d === undefined) throw new Error(`no process ${i}`);
    return d;
  };
  for (const op of ops) {
    const x = at(op.who);
    if (!x.alive()) continue;
    const chosen = (n: number): Grant | undefined =>
      grants.length === 0 ? undefined : grants[n % grants.length];
    switch (op.k) {
      case 'write':
        await x
          .stepwise((p) => p.write(x.buf + op.page * PAGE, new Uint8Array(PAGE).fill(op.byte)), check)
          .catch(() => undefined);
        break;
      case 'grant': {
        const to = at(op.to).ep;
        const g = await x.stepwise(
          (p) => p.cpf.grantDirect(to, x.buf + op.page * PAGE, op.pages * PAGE, op.access),
          check,
        );
        if (g.errno === OK) grants.push({ owner: op.who, ownerEp: x.ep, id: g.id, pages: op.pages });
        break;
      }
      case 'revoke': {
        const mine = grants.filter((g) => g.owner === op.who);
        const g = mine[op.pick % Math.max(1, mine.length)];
        if (g === undefined) break;
        if ((await x.stepwise((p) => p.cpf.revoke(g.id), check)) === OK) grants.splice(grants.indexOf(g), 1);
        break;
      }
      case 'copyTo':
      case 'copyFrom': {
        const g = chosen(op.pick);
        if (g === undefined) break;
        const addr = x.buf + op.page * PAGE + op.offset;
        await x.stepwise(
          (p) =>
            op.k === 'copyTo'
              ? p.sys.safecopyTo(g.ownerEp, g.id, op.offset, addr, op.len)
              : p.sys.safecopyFrom(g.ownerEp, g.id, op.offset, addr, op.len),
          check,
        );
        break;
      }
      case 'map': {
        const g = chosen(op.pick);
        if (g === undefined) break;
        await x.stepwise(
          (p) => p.sys.safemap(g.ownerEp, g.id, 0, x.buf + op.page * PAGE, PAGE, op.writable),
          check,
        );
        break;
      }
      case 'unmap':
        await x.stepwise((p) => p.sys.safeunmap(x.buf + op.page * PAGE), check);
        break;
      case 'kill':
        // Keep at least one service alive so the rest of the sequence does something.
        if (procs.filter((d) => d.alive()).length < 2) break;
        expect(sys.kill(x.ep)).toBe(true);
        await runStepwise(sys, check);
        expect(x.alive()).toBe(false);
        break;
    }
  }
  // Everyone goes: no mapping record may survive its parties.
  for (const d of procs) if (d.alive()) sys.kill(d.ep);
  await runStepwise(sys, check);
  expect(safemapRecords(sys.kernel)).toEqual([]);
  sys.sanityCheck();
  return { steps };
}

const ops = fc.array(opArb, { minLength: 8, maxLength: 18 });
const budget = { numRuns: Number(process.env.GRANT_STEP_RUNS ?? 5), timeout: 60_000 };

describe('grants §8.60: kernel invariants after every step', () => {
  fcTest.prop([ops, fc.boolean()], budget)(
    'random grant/copy/map/revoke/kill sequences, checked at every kernel entry',
    async (seq, cow) => {
      const { steps } = await runOps(seq, cow);
      expect(steps).toBeGreaterThan(0);
    },
  );
});
