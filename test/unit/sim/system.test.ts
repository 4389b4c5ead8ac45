import { describe, expect, it } from 'vitest';
import { createSystem, ConfigError } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import { VM_PROCSTART } from '../../../src/include/vm.ts';
import { SIGKILL, SIGSEGV, ECHILD, OK } from '../../../src/include/errno.ts';
import { Panic } from '../../../src/lib/assert.ts';
import { forkWorkload } from '../../helpers/workloads.ts';

const HEAP = VM_PROCSTART + 4 * 4096;

describe('createSystem', () => {
  it('boots every boot process at its slot and goes idle', async () => {
    const sys = await createSystem({ sanity: 'functions' });
    const names = sys.inspect().processes.map((p) => `${p.slot}:${p.name}`);
    expect(names).toEqual(['0:pm', '1:vfs', '2:rs', '3:memory', '4:log', '5:tty', '6:ds', '7:mfs', '8:vm', '9:pfs', '10:init']);
    sys.sanityCheck();
  });

  it('rejects a bad config with one line per problem', async () => {
    await expect(createSystem({ ramBytes: 1000 })).rejects.toThrow(ConfigError);
    await expect(createSystem({ nrProcs: 5 })).rejects.toThrow(/nrProcs/);
    await expect(createSystem({ cowBreak: 'pages' as 'page' })).rejects.toThrow(/cowBreak must be 'block' or 'page'/);
  });

  it('runs a user program: demand-zero heap, exit status reaches the host', async () => {
    const sys = await createSystem({ sanity: 'functions' });
    const h = sys.spawn(async (p) => {
      const zero = await p.readU32(HEAP);
      await p.writeU32(HEAP, 1234);
      return zero === 0 && (await p.readU32(HEAP)) === 1234 ? 5 : 1;
    });
    await sys.run();
    expect(h.endpoint).toBeGreaterThan(0);
    expect(h.exit).toEqual({ code: 5, signal: 0 });
    sys.sanityCheck();
  });

  it('a process touching an unmapped address is killed with SIGSEGV and its parent sees it in wait', async () => {
    const sys = await createSystem({ sanity: 'functions' });
    let seen: unknown = null;
    const h = sys.spawn(async (p) => {
      const child = await p.fork(async (c) => {
        await c.readU32(0x10000000);
        return 0;
      });
      const w = await p.wait();
      seen = { same: w.endpoint === child, signal: w.signal };
      const none = await p.wait();
      return none.endpoint === ECHILD ? 0 : 1;
    });
    await sys.run();
    expect(seen).toEqual({ same: true, signal: SIGSEGV });
    expect(h.exit).toEqual({ code: 0, signal: 0 });
  });

  it('the same seed and scenario give the same trace; stopping every step changes nothing', async () => {
    const run = async (slice?: number): Promise<string> => {
      const sys = await createSystem({ seed: 3, schedule: 'random' });
      for (let i = 0; i < 3; i++) {
        sys.spawn(async (p) => {
          for (let j = 0; j < 4; j++) await p.writeU32(HEAP + j * 4096, j);
          const c = await p.fork(async (q) => {
            await q.writeU32(HEAP, 9);
          });
          await p.wait();
          return c > 0 ? OK : 1;
        });
      }
      if (slice === undefined) await sys.run();
      else while ((await sys.run({ maxSteps: slice })).reason !== 'idle');
      return sys.traceHash();
    };
    const a = await run();
    expect(await run()).toBe(a);
    expect(await run(1)).toBe(a);
  });
});

describe('breakpoints', () => {
  const workload = async (sys: System): Promise<void> => {
    forkWorkload(sys);
    await sys.run();
  };

  it('stop every run, the workload own too, at the chosen steps without changing the trace', async () => {
    const plain = await createSystem({ seed: 5, schedule: 'random' });
    await workload(plain);
    const sys = await createSystem({ seed: 5, schedule: 'random' });
    const hits: number[] = [];
    const every = (step: number): System['breakpoint'] => ({
      step,
      hit: (s) => {
        hits.push(s.kernel.step);
        s.breakpoint = every(step + 7);
      },
    });
    sys.breakpoint = every(sys.kernel.step + 7);
    await workload(sys);
    expect(hits.length).toBeGreaterThan(5);
    expect(hits.every((h, i) => h >= hits[0]! + 7 * i)).toBe(true);
    expect(sys.traceHash()).toBe(plain.traceHash());
  });

  it('a hit may wait (the run goes on only when it resolves) and may kill a process', async () => {
    const sys = await createSystem({ seed: 1 });
    let victim = 0;
    const h = sys.spawn(async (p) => {
      victim = p.endpoint;
      for (;;) await p.getpid();
    });
    let resolved = false;
    sys.breakpoint = {
      step: sys.kernel.step + 40,
      hit: async (s) => {
        await Promise.resolve();
        resolved = true;
        expect(s.kill(victim)).toBe(true);
      },
    };
    await sys.run();
    expect(resolved).toBe(true);
    expect(sys.breakpoint).toBeNull();
    expect(h.exit).toEqual({ code: 0, signal: SIGKILL });
  });
});

describe('fatal deaths', () => {
  it('DS cannot be restarted: its death stops the system with a panic', async () => {
    const sys = await createSystem();
    const ds = sys.proc('ds');
    expect(ds).not.toBeNull();
    sys.kill(ds?.endpoint ?? -1);
    await expect(sys.run()).rejects.toThrow(/DS died/);
    expect(sys.panicked?.message).toMatch(/DS died/);
  });
});

describe('sanity after every step', () => {
  it('with sanity on, the grant and DS checkers run at every kernel entry and a violation stops the system', async () => {
    const sys = await createSystem({ sanity: 'top' });
    const check = sys.kernel.stepCheck;
    expect(check).not.toBeNull();
    let calls = 0;
    sys.kernel.stepCheck = () => {
      calls++;
      check?.();
    };
    const before = sys.kernel.step;
    sys.spawn(async (p) => {
      await p.writeU32(HEAP, 1);
    });
    await sys.run();
    expect(calls).toBe(sys.kernel.step - before);
    sys.kernel.stepCheck = () => {
      throw new Panic('grant sanity: broken on purpose');
    };
    sys.spawn(async () => 0);
    await expect(sys.run()).rejects.toThrow(/broken on purpose/);
  });

  it('with sanity off no per-step checker is installed (benchmarks pay nothing)', async () => {
    const sys = await createSystem({ sanity: 'off' });
    expect(sys.kernel.stepCheck).toBeNull();
  });
});

describe('the vm-demo scenario', () => {
  it('passes and draws the memory picture: COW-shared pages after fork, the munmap hole and the brk page after', async () => {
    const { runScenario } = await import('../../../src/sim/scenario.ts');
    const { findScenario } = await import('../../../src/sim/scenarios.ts');
    const s = findScenario('vm-demo');
    expect(s).toBeDefined();
    if (s === undefined) return;
    const r = await runScenario(s);
    expect(r.error).toBeNull();
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    const pics = r.lines.filter((l) => l.startsWith('  0x'));
    expect(pics.some((l) => l.includes('heap [CCCC]'))).toBe(true);
    expect(pics.some((l) => /heap \[rrrr\.w\]/.test(l))).toBe(true);
    expect(pics.some((l) => l.startsWith('  0x80000000     1p'))).toBe(true);
  });
});

describe('inspect', () => {
  it('counts each process frames as private, COW-shared, safemap-shared or device', async () => {
    const sys = await createSystem();
    let mid: ReturnType<typeof sys.inspect> | null = null;
    sys.spawn(async (p) => {
      for (let i = 0; i < 3; i++) await p.writeU32(HEAP + i * 4096, i);
      await p.fork(async (c) => {
        mid = sys.inspect();
        await c.readU32(HEAP);
      });
      await p.wait();
    });
    await sys.run();
    const snap = mid as ReturnType<typeof sys.inspect> | null;
    expect(snap).not.toBeNull();
    const users = snap?.frames.filter((f) => f.slot > 10) ?? [];
    expect(users).toHaveLength(2);
    for (const u of users) expect(u.cowSharedPages).toBeGreaterThanOrEqual(3);
  });
});

describe('inspect: grants, mappings and DS', () => {
  it('lists a live service grant table, its safemap records and the DS labels', async () => {
    const { startTestService } = await import('../../../src/sim/grantsuites.ts');
    const { CPF_MAP, CPF_READ, CPF_WRITE } = await import('../../../src/include/safecopies.ts');
    const { vmMmap } = await import('../../../src/libsys/vm.ts');
    const { MAP_ANON, MAP_PRIVATE } = await import('../../../src/include/vm.ts');
    const sys = await createSystem({ sanity: 'functions' });
    let grantee = -1;
    const g = await startTestService(sys, 'holder', async (p) => {
      const buf = await vmMmap(p, 0, 4 * 4096, MAP_ANON | MAP_PRIVATE);
      await p.write(buf, new Uint8Array(4096).fill(7));
      const m = await p.receive();
      grantee = m.source;
      const a = await p.cpf.grantDirect(m.source, buf, 100, CPF_READ);
      const b = await p.cpf.grantDirect(m.source, buf, 4096, CPF_READ | CPF_WRITE | CPF_MAP);
      await p.send(m.source, { type: OK, a: a.id, b: b.id, buf });
      await p.receive();
    });
    await startTestService(sys, 'mapper', async (p) => {
      const r = await p.sendrec(g, { type: 1 });
      const dst = await vmMmap(p, 0, 4096, MAP_ANON | MAP_PRIVATE);
      await p.sys.safemap(g, Number(r.b), 0, dst, 4096, true);
      await p.receive();
    });
    const snap = sys.inspect();
    const mine = snap.grants.filter((x) => x.ownerName === 'holder');
    expect(mine.map((x) => [x.id, x.kind, x.access, x.to])).toEqual([
      [0, 'direct', 'R', grantee],
      [1, 'direct', 'RWM', grantee],
    ]);
    expect(snap.mappings).toHaveLength(1);
    expect(snap.mappings[0]).toMatchObject({ owner: g, grantee, bytes: 4096, writable: true });
    expect(snap.ds.entries.some((e) => e.key === 'holder' && e.type === 'LABEL')).toBe(true);
  });
});
