// The cycle counter (src/hw/clock.ts): each cost kind is charged where the trace says the action happened,
// a crafted workload costs exactly the predicted cycles, and simulated time is deterministic, breakpoints or not.
import { describe, expect, it } from 'vitest';
import { CycleClock, KERNEL_KINDS } from '../../../src/hw/clock.ts';
import { COST_KINDS, K, builtinProfiles, profileProblems, resolveProfile } from '../../../src/hw/profile.ts';
import type { CostKind, CostProfile } from '../../../src/hw/profile.ts';
import { NR_TASKS } from '../../../src/include/endpoint.ts';
import { CPF_READ } from '../../../src/include/safecopies.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../../src/include/vm.ts';
import { vmMmap } from '../../../src/libsys/vm.ts';
import type { Proc } from '../../../src/libsys/proc.ts';
import { startTestService } from '../../../src/sim/grantsuites.ts';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';

const PAGE = 4096;
const i386 = builtinProfiles['i386-2010'] as CostProfile;

/** Occurrences per kind charged while `body` runs. */
async function countsDuring(p: Proc, body: () => Promise<void>): Promise<Record<CostKind, number>> {
  const before = Float64Array.from(p.kernel.clock.countByKind);
  await body();
  const after = p.kernel.clock.countByKind;
  return Object.fromEntries(COST_KINDS.map((k) => [k, (after[K[k]] ?? 0) - (before[K[k]] ?? 0)])) as Record<
    CostKind,
    number
  >;
}

/** What `counts` cost under `profile`. */
function predicted(profile: CostProfile, counts: Partial<Record<CostKind, number>>): number {
  let c = 0;
  for (const k of COST_KINDS)
    c += (k === 'copyByte' ? profile.clockMHz / profile.copyMBps : profile[k]) * (counts[k] ?? 0);
  return c;
}

const kindCount = (sys: System, kind: string): number => sys.trace.filter((e) => e.kind === kind).length;

describe('the cycle counter', () => {
  it('charges a trap per kernel step, a kernel call, IPC and page fault per trace event', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    sys.spawn(async (p) => {
      const a = await vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PRIVATE);
      for (let i = 0; i < 3; i++) await p.writeU8(a + i * PAGE, 1);
    });
    await sys.run();
    const c = sys.clock.countByKind;
    expect(c[K.trap]).toBe(sys.kernel.step);
    expect(c[K.kernelCall]).toBe(kindCount(sys, 'kcall'));
    expect(c[K.ipcMessage]).toBe(kindCount(sys, 'ipc'));
    expect(c[K.pageFault]).toBe(kindCount(sys, 'fault'));
    expect(c[K.pageFault]).toBeGreaterThanOrEqual(3);
    // Every cycle is in exactly one kind, and in exactly one owner slot (user or kernel time of a process).
    const byKind = sys.clock.byKind.reduce((a, b) => a + b, 0);
    const byOwner =
      sys.clock.byOwner.reduce((a, b) => a + b, 0) + sys.clock.retired.reduce((a, b) => a + b, 0);
    expect(byKind).toBeCloseTo(sys.clock.cycles, 6);
    expect(byOwner).toBeCloseTo(sys.clock.cycles, 6);
    expect(sys.clock.cycles).toBeCloseTo(
      predicted(i386, Object.fromEntries(COST_KINDS.map((k) => [k, c[K[k]] ?? 0]))),
      6,
    );
  });

  it('a crafted safecopy and three first touches cost exactly the predicted cycles', async () => {
    const sys = await createSystem({ ramBytes: 16 * 1024 * 1024, cowSafecopy: false });
    const seen: Record<string, Record<CostKind, number>> = {};
    const own = { copy: 0, touch: 0 };
    await startTestService(sys, 'crafted', async (p) => {
      const src = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE);
      const dst = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PRIVATE);
      const fresh = await vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PRIVATE);
      for (let i = 0; i < 2; i++) {
        await p.writeU8(src + i * PAGE, 7);
        await p.writeU8(dst + i * PAGE, 0);
      }
      const g = await p.cpf.grantDirect(p.endpoint, src, 2 * PAGE, CPF_READ);
      await p.readU8(src); // the grant table page and both ranges are now present
      const slot = 2 * (p.kp.slot + NR_TASKS);
      const mine = (): number => (sys.clock.byOwner[slot] ?? 0) + (sys.clock.byOwner[slot + 1] ?? 0);
      let t0 = mine();
      seen.copy = await countsDuring(p, async () => {
        expect(await p.sys.safecopyFrom(p.endpoint, g.id, 0, dst, 2 * PAGE)).toBe(0);
      });
      own.copy = mine() - t0;
      t0 = mine();
      seen.touch = await countsDuring(p, async () => {
        for (let i = 0; i < 3; i++) await p.writeU8(fresh + i * PAGE, 1);
      });
      own.touch = mine() - t0;
    });
    await sys.run();
    const copy = seen.copy;
    const touch = seen.touch;
    if (copy === undefined || touch === undefined) throw new Error('the crafted service did not run');
    // One trap, one kernel call, one grant entry (1 walk), two source and two destination pages walked, one copy.
    const copyCounts = {
      trap: 1,
      kernelCall: 1,
      grantEntry: 1,
      pageWalk: 5,
      copyCall: 1,
      copyByte: 2 * PAGE,
    };
    for (const k of COST_KINDS)
      expect([k, copy[k]]).toEqual([k, copyCounts[k as keyof typeof copyCounts] ?? 0]);
    expect(own.copy).toBe(predicted(i386, copyCounts));
    // Three first touches: each page faults (a TLB miss, the fault trap) and VM maps a zeroed frame (one PTE).
    expect(touch.pageFault).toBe(3);
    expect(touch.tlbMiss).toBe(6); // the miss that faults and the one after VM's fix
    expect(touch.frameAlloc).toBe(3);
    expect(touch.zeroPage).toBe(3);
    expect(touch.pteWrite).toBe(3);
    expect(touch.vmRequest).toBe(3);
    expect(touch.copyByte).toBe(0);
    // The service's own time: its misses, its fault traps with the notification to VM each sends.
    const ownTouch = { tlbMiss: 6, trap: 3, pageFault: 3, ipcMessage: 3 };
    const switches = touch.contextSwitch;
    expect(switches).toBeGreaterThanOrEqual(6); // to VM and back, per fault
    // ... and the switches back to it (half of them).
    expect(own.touch).toBe(
      predicted(i386, {
        ...ownTouch,
        contextSwitch: switches / 2,
        addressSpaceSwitch: touch.addressSpaceSwitch / 2,
      }),
    );
  });
});

describe('simulated time is deterministic', () => {
  const workload = async (sys: System): Promise<void> => {
    sys.spawn(async (p) => {
      const a = await vmMmap(p, 0, 8 * PAGE, MAP_ANON | MAP_PRIVATE);
      for (let i = 0; i < 8; i++) await p.writeU8(a + i * PAGE, i);
      const child = await p.fork(async (c) => {
        await c.writeU8(a, 9);
      });
      expect(child).toBeGreaterThan(0);
      await p.wait();
    });
    await sys.run();
  };
  const stamps = (sys: System): number[] => sys.trace.map((e) => e.t ?? -1);

  it('two runs give the same time; a run stopped at breakpoints gives the same time and stamps', async () => {
    const a = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    await workload(a);
    const b = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    await workload(b);
    expect(b.clock.cycles).toBe(a.clock.cycles);
    expect(Array.from(b.clock.byOwner)).toEqual(Array.from(a.clock.byOwner));
    expect(stamps(b)).toEqual(stamps(a));
    let hits = 0;
    const every = (step: number): NonNullable<System['breakpoint']> => ({
      step,
      hit: (s) => {
        hits++;
        s.breakpoint = every(step + 7);
      },
    });
    const c = await createSystem({ ramBytes: 16 * 1024 * 1024 }, { breakpoint: every(3) });
    await workload(c);
    expect(hits).toBeGreaterThan(10);
    expect(c.clock.cycles).toBe(a.clock.cycles);
    expect(stamps(c)).toEqual(stamps(a));
    expect(c.traceHash()).toBe(a.traceHash());
  });

  it('checking costs nothing: every sanity level, and host checks and snapshots, give the same time', async () => {
    const off = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity: 'off' });
    await workload(off);
    for (const sanity of ['top', 'detail'] as const) {
      const checked = await createSystem({ ramBytes: 16 * 1024 * 1024, sanity });
      checked.breakpoint = {
        step: 40,
        hit: (s) => {
          s.sanityCheck();
          s.inspect();
        },
      };
      await workload(checked);
      expect(checked.traceHash()).toBe(off.traceHash());
      expect(Array.from(checked.clock.countByKind), sanity).toEqual(Array.from(off.clock.countByKind));
      expect(checked.clock.cycles, sanity).toBe(off.clock.cycles);
      expect(stamps(checked)).toEqual(stamps(off));
    }
  });

  it('with the accounting off nothing is charged or stamped, and the behaviour is the same', async () => {
    const on = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    await workload(on);
    const off = await createSystem({ ramBytes: 16 * 1024 * 1024, accounting: false });
    await workload(off);
    expect(off.traceHash()).toBe(on.traceHash());
    expect(off.kernel.step).toBe(on.kernel.step);
    expect(off.clock.cycles).toBe(0);
    expect(off.clock.countByKind.every((n) => n === 0)).toBe(true);
    expect(off.clock.runLog).toBeNull();
    expect(off.trace.some((e) => 't' in e)).toBe(false);
    expect(on.clock.cycles).toBeGreaterThan(0);
  });

  it('the trace read in the middle of a run has the same times as read at the end', async () => {
    const end = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    await workload(end);
    const seen: number[][] = [];
    const mid = await createSystem(
      { ramBytes: 16 * 1024 * 1024 },
      {
        breakpoint: {
          step: 30,
          hit: (s) => {
            seen.push(stamps(s));
          },
        },
      },
    );
    await workload(mid);
    expect(seen[0]?.length).toBeGreaterThan(0);
    expect(stamps(end).slice(0, seen[0]?.length)).toEqual(seen[0]);
    expect(stamps(mid)).toEqual(stamps(end));
    expect(stamps(mid)).not.toContain(-1);
  });

  it('another profile changes the time, never the behaviour', async () => {
    const a = await createSystem({ ramBytes: 16 * 1024 * 1024 });
    await workload(a);
    const m = await createSystem({ ramBytes: 16 * 1024 * 1024, profile: 'modern-x86' });
    await workload(m);
    expect(m.traceHash()).toBe(a.traceHash());
    expect(m.kernel.step).toBe(a.kernel.step);
    expect(m.clock.cycles).not.toBe(a.clock.cycles);
  });
});

describe('profiles', () => {
  it('the built-in profiles are valid', () => {
    for (const p of Object.values(builtinProfiles)) expect(profileProblems(p)).toEqual([]);
  });

  it('names the key of an unknown, missing, negative or non-numeric value', () => {
    const missing: Partial<CostProfile> = { ...i386 };
    delete missing.trap;
    expect(profileProblems(missing)).toEqual(["profile: missing key 'trap'"]);
    expect(profileProblems({ ...i386, bogus: 1 })).toEqual(["profile: unknown key 'bogus'"]);
    expect(profileProblems({ ...i386, pteWrite: -1 })).toEqual([
      "profile: key 'pteWrite' must be a non-negative number, got -1",
    ]);
    expect(profileProblems({ ...i386, vmPage: '3' })).toEqual([
      'profile: key \'vmPage\' must be a non-negative number, got "3"',
    ]);
    expect(profileProblems({ ...i386, clockMHz: 0 })).toEqual(["profile: key 'clockMHz' must be positive"]);
  });

  it('refuses what is not an object, a missing or empty name, 0 MB/s and infinities; a cost may be 0', () => {
    for (const x of [null, [], 3, 'i386-2010'])
      expect(profileProblems(x)).toEqual(['profile: not a JSON object']);
    const noName: Partial<CostProfile> = { ...i386 };
    delete noName.name;
    const nameProblem = "profile: key 'name' must be a non-empty string";
    expect(profileProblems(noName)).toEqual([nameProblem]);
    expect(profileProblems({ ...i386, name: '' })).toEqual([nameProblem]);
    expect(profileProblems({ ...i386, copyMBps: 0 })).toEqual(["profile: key 'copyMBps' must be positive"]);
    expect(profileProblems({ ...i386, trap: Infinity })).toEqual([
      "profile: key 'trap' must be a non-negative number, got null",
    ]);
    expect(profileProblems({ ...i386, trap: 0 })).toEqual([]);
  });

  it('resolves a built-in name or a valid object; else i386-2010 with the problems', () => {
    expect(resolveProfile('modern-x86')).toEqual({ profile: builtinProfiles['modern-x86'], problems: [] });
    const own = { ...i386, name: 'mine', trap: 1 };
    expect(resolveProfile(own).profile).toBe(own);
    expect(resolveProfile('pdp-11')).toEqual({
      profile: i386,
      problems: ["profile: unknown profile 'pdp-11' (built in: i386-2010, modern-x86)"],
    });
    expect(resolveProfile({ ...own, trap: -1 })).toEqual({
      profile: i386,
      problems: ["profile: key 'trap' must be a non-negative number, got -1"],
    });
  });

  it('createSystem refuses an unknown or invalid profile', async () => {
    await expect(createSystem({ profile: 'pdp-11' })).rejects.toThrow(/unknown profile 'pdp-11'/);
    await expect(createSystem({ profile: { ...i386, trap: -5 } })).rejects.toThrow(/'trap'/);
  });
});

// CycleClock on its own, with a profile whose copy costs 4 cycles a byte (1000 MHz, 250 MB/s): each slot, owner
// and nesting rule checked by number, so that a mixed-up index or a lost charge shows.
describe('CycleClock', () => {
  const profile: CostProfile = { ...i386, clockMHz: 1000, copyMBps: 250 };
  const clock = (owners = 3): CycleClock => {
    const c = new CycleClock(profile);
    c.attach(owners);
    return c;
  };

  it('charges count times the cost to the kind, its count and the owner slot of its mode', () => {
    const c = clock();
    c.setOwner(1, 101);
    c.charge(K.tlbMiss, 3); // the process's own time
    c.charge(K.trap); // the kernel's, on its behalf
    expect(c.cycles).toBe(3 * 30 + 600);
    expect([c.byKind[K.tlbMiss], c.countByKind[K.tlbMiss], c.byKind[K.trap], c.countByKind[K.trap]]).toEqual([
      90, 3, 600, 1,
    ]);
    expect(c.ownerCycles(1)).toEqual({ user: 90, kernel: 600 });
    expect([...c.byOwner]).toEqual([0, 0, 90, 600, 0, 0, 0, 0]);
    expect(KERNEL_KINDS).toContain('trap');
    expect(KERNEL_KINDS).not.toContain('tlbMiss');
  });

  it('before any setOwner, and after attach, time goes to "no process" (the last owner)', () => {
    const c = clock(2);
    c.charge(K.pageFault);
    expect(c.ownerCycles(2)).toEqual({ user: 0, kernel: 1200 });
    expect(c.byOwner).toHaveLength(6);
  });

  it('a copy is a call plus its bytes at the bandwidth', () => {
    const c = clock();
    c.chargeCopy(10);
    expect(c.cycles).toBe(300 + 4 * 10);
    expect([c.countByKind[K.copyCall], c.countByKind[K.copyByte], c.byKind[K.copyByte]]).toEqual([1, 10, 40]);
  });

  it('charges nothing off the clock, nested, and counts again once the outermost work ends or throws', () => {
    const c = clock();
    const r = c.offClock(() => {
      c.charge(K.trap);
      c.offClock(() => c.charge(K.trap));
      c.charge(K.trap);
      return 7;
    });
    expect([r, c.cycles, c.countByKind[K.trap]]).toEqual([7, 0, 0]);
    expect(() =>
      c.offClock(() => {
        throw new Error('checker');
      }),
    ).toThrow('checker');
    c.charge(K.trap);
    expect(c.cycles).toBe(600);
  });

  it("retire moves one owner's two slots to retired and leaves the others", () => {
    const c = clock();
    for (const owner of [0, 1, 2]) {
      c.setOwner(owner, owner);
      c.charge(K.tlbMiss, owner + 1);
      c.charge(K.trap, owner + 1);
    }
    c.retire(2); // owner 2 first: its slots (4, 5) are 2 * owner, not 2 / owner or 2 + owner
    expect([...c.retired]).toEqual([90, 1800]);
    expect(c.ownerCycles(2)).toEqual({ user: 0, kernel: 0 });
    expect(c.ownerCycles(0)).toEqual({ user: 30, kernel: 600 });
    expect(c.ownerCycles(1)).toEqual({ user: 60, kernel: 1200 });
    c.retire(1);
    expect([...c.retired]).toEqual([150, 3000]);
    expect(c.ownerCycles(0)).toEqual({ user: 30, kernel: 600 });
  });

  it('logs [cycle, endpoint] at each change of owner only when the run log is on', () => {
    const c = clock();
    c.setOwner(0, 10);
    expect(c.runLog).toBeNull();
    c.runLog = [];
    c.charge(K.trap);
    c.setOwner(1, 11);
    c.charge(K.trap);
    c.setOwner(0, 10);
    expect(c.runLog).toEqual([600, 11, 1200, 10]);
  });

  it('converts cycles to microseconds at the clock rate, its own count by default', () => {
    const c = clock();
    c.charge(K.trap, 5);
    expect(c.micros()).toBe(3);
    expect(c.micros(2500)).toBe(2.5);
  });
});
