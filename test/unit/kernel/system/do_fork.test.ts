// The process-lifecycle kernel calls (src/kernel/system/do_fork.ts) on a bare kernel, through kernel calls as VM
// and PM make them: sys_fork's checks and the child it makes (held until runctl and privctl let it go), sys_exec's
// checks, image and reset of the process, sys_exit's status, sys_runctl.
import { describe, expect, it } from 'vitest';
import { grantWorld } from '../../../helpers/grantworld.ts';
import { ANY } from '../../../../src/include/endpoint.ts';
import { EFAULT, EINVAL, OK } from '../../../../src/include/errno.ts';
import {
  SYS_EXEC,
  SYS_EXIT,
  SYS_FORK,
  SYS_PRIVCTL,
  SYS_PRIV_ALLOW,
  SYS_RUNCTL,
} from '../../../../src/include/com.ts';
import { numField } from '../../../../src/include/ipc.ts';
import { RC_RESUME, RC_STOP } from '../../../../src/kernel/system/do_fork.ts';
import { RTS } from '../../../../src/kernel/proc.ts';
import type { KProc } from '../../../../src/kernel/proc.ts';
import { toProgram } from '../../../../src/libsys/proc.ts';
import type { Program } from '../../../../src/libsys/proc.ts';

/** A world with an admin actor (the caller, as VM or PM) and a parent actor. */
function world() {
  const w = grantWorld({ ramBytes: 8 * 1024 * 1024 });
  return { w, admin: w.actor(20, 'admin'), parent: w.actor(21, 'parent') };
}

describe('sys_fork', () => {
  it('refuses a dead parent, a bad, negative or busy slot, and a missing program with EINVAL', async () => {
    const { w, admin, parent } = world();
    const program = toProgram(w.k, async () => undefined);
    const results = await admin.do(async (p) => {
      const out: number[] = [];
      for (const m of [
        { parent: 999, slot: 30, program },
        { parent: parent.ep, slot: 1.5, program },
        { parent: parent.ep, slot: 100, program },
        { parent: parent.ep, slot: -1, program },
        { parent: parent.ep, slot: 21, program },
        { parent: parent.ep, slot: 30 },
        { parent: parent.ep, slot: 30, program: 'main' },
      ]) {
        out.push((await p.kernelCall({ type: SYS_FORK, ...m })).type);
      }
      return out;
    });
    expect(results).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(w.k.procAt(30).inUse).toBe(false);
  });

  it("a system parent's child: next generation, parent's name, priority 7, held by PROC_STOP and NO_PRIV", async () => {
    const { w, admin, parent } = world();
    const log: string[] = [];
    const program = toProgram(w.k, async (p) => {
      log.push(`child ${p.name}`);
    });
    const child = await admin.do(async (p) =>
      numField(await p.kernelCall({ type: SYS_FORK, parent: parent.ep, slot: 30, program }), 'child'),
    );
    const kp = w.k.procAt(30);
    expect(child).toBe(kp.endpoint);
    expect(w.k.generationOf(child)).toBe(1);
    expect([kp.name, kp.priority, kp.parent, kp.rts]).toEqual([
      'parent',
      7,
      parent.ep,
      RTS.PROC_STOP | RTS.NO_PRIV,
    ]);
    expect(w.trace.filter((e) => e.kind === 'proc' && e.op === 'fork')).toEqual([
      {
        step: expect.any(Number) as number,
        kind: 'proc',
        op: 'fork',
        ep: child,
        name: 'parent',
        parent: parent.ep,
      },
    ]);
    // Resumed it still waits for its privileges; allowed, it runs.
    await admin.do((p) => p.kernelCall({ type: SYS_RUNCTL, endpoint: child, action: RC_RESUME }));
    expect(log).toEqual([]);
    await admin.do((p) => p.kernelCall({ type: SYS_PRIVCTL, endpoint: child, request: SYS_PRIV_ALLOW }));
    expect(log).toEqual(['child parent']);
  });

  it("a user parent's child keeps the parent's priority, takes the given name, and needs only runctl", async () => {
    const { w, admin } = world();
    const log: string[] = [];
    const user = w.k.createProcess({
      slot: 22,
      name: 'user',
      program: toProgram(w.k, async (p) => {
        await p.receive(ANY);
      }),
      priority: 5,
    });
    const program = toProgram(w.k, async (p) => {
      log.push(`child ${p.name}`);
    });
    const child = await admin.do(async (p) =>
      numField(
        await p.kernelCall({ type: SYS_FORK, parent: user.endpoint, slot: 31, program, name: 'kid' }),
        'child',
      ),
    );
    const kp = w.k.procAt(31);
    expect([kp.name, kp.priority, kp.rts]).toEqual(['kid', 5, RTS.PROC_STOP]);
    await admin.do((p) => p.kernelCall({ type: SYS_RUNCTL, endpoint: child, action: RC_RESUME }));
    expect(log).toEqual(['child kid']);
  });

  it('slot 0 is a slot like any other', async () => {
    const { w, admin, parent } = world();
    const program = toProgram(w.k, async () => undefined);
    const r = await admin.do(
      async (p) => (await p.kernelCall({ type: SYS_FORK, parent: parent.ep, slot: 0, program })).type,
    );
    expect([r, w.k.procAt(0).inUse]).toEqual([OK, true]);
  });

  it('a second fork into a freed slot gets the next generation', async () => {
    const { w, admin, parent } = world();
    const program = toProgram(w.k, async () => undefined);
    const fork = () =>
      admin.do(async (p) =>
        numField(await p.kernelCall({ type: SYS_FORK, parent: parent.ep, slot: 30, program }), 'child'),
      );
    const first = await fork();
    await admin.do((p) => p.kernelCall({ type: SYS_EXIT, endpoint: first }));
    const second = await fork();
    expect([w.k.generationOf(first), w.k.generationOf(second)]).toEqual([1, 2]);
  });
});

describe('sys_runctl', () => {
  it('RC_STOP holds a ready process, RC_RESUME lets it run; a dead endpoint or another action is EINVAL', async () => {
    const { w, admin } = world();
    const log: string[] = [];
    const target = w.actor(22, 'target');
    target.start(async () => {
      log.push('ran');
    });
    const results = await admin.do(async (p) => {
      const r = [(await p.kernelCall({ type: SYS_RUNCTL, endpoint: target.ep, action: RC_STOP })).type];
      r.push((await p.kernelCall({ type: SYS_RUNCTL, endpoint: 999, action: RC_STOP })).type);
      r.push((await p.kernelCall({ type: SYS_RUNCTL, endpoint: target.ep, action: 2 })).type);
      return r;
    });
    expect(results).toEqual([OK, EINVAL, EINVAL]);
    expect(log).toEqual([]);
    expect(target.kp.rts & RTS.PROC_STOP).toBe(RTS.PROC_STOP);
    await admin.do((p) => p.kernelCall({ type: SYS_RUNCTL, endpoint: target.ep, action: RC_RESUME }));
    expect(log).toEqual(['ran']);
  });
});

describe('sys_exit', () => {
  it('ends another process with its code or signal (non-integers are 0); itself or a dead one is EINVAL', async () => {
    const { w, admin } = world();
    const victims = [22, 23, 24, 25].map((s) => w.actor(s, `v${s}`));
    const results = await admin.do(async (p) => {
      const out: number[] = [];
      for (const m of [
        { endpoint: victims[0]?.ep, code: 3 },
        { endpoint: victims[1]?.ep, code: 2, signal: 9 },
        { endpoint: victims[2]?.ep, code: 1.5, signal: 0.5 },
        { endpoint: victims[3]?.ep },
        { endpoint: p.endpoint, code: 1 },
        { endpoint: 999 },
      ]) {
        out.push((await p.kernelCall({ type: SYS_EXIT, ...m })).type);
      }
      return out;
    });
    expect(results).toEqual([OK, OK, OK, OK, EINVAL, EINVAL]);
    expect(victims.map((v) => [v.kp.inUse, v.kp.exitStatus])).toEqual([
      [false, 3 << 8],
      [false, 9],
      [false, 0],
      [false, 0],
    ]);
    expect(admin.kp.inUse).toBe(true);
  });
});

describe('sys_exec', () => {
  /** Execs `target` with `segments` and a program that logs; the result of the call. */
  async function exec(
    w: ReturnType<typeof world>,
    target: { ep: number },
    m: Record<string, unknown>,
    main?: Program,
  ) {
    const program = main === undefined ? undefined : toProgram(w.w.k, main);
    return w.admin.do(
      async (p) => (await p.kernelCall({ type: SYS_EXEC, endpoint: target.ep, program, ...m })).type,
    );
  }

  it('refuses a dead endpoint and a missing program (EINVAL), an image outside memory (EFAULT), writing nothing', async () => {
    const w = world();
    const t = w.w.actor(22, 'target');
    const seg = (vaddr: number) => ({ vaddr, bytes: Uint8Array.of(1, 2, 3) });
    const results = [
      await w.admin.do(
        async (p) =>
          (
            await p.kernelCall({
              type: SYS_EXEC,
              endpoint: 999,
              program: toProgram(w.w.k, async () => undefined),
            })
          ).type,
      ),
      await exec(w, t, { segments: [] }),
      await exec(w, t, { segments: [seg(t.base), seg(t.base + 1024 * 1024 - 2)] }, async () => undefined),
    ];
    expect(results).toEqual([EINVAL, EINVAL, EFAULT]);
    expect([...t.peek(t.base, 3)]).toEqual([0, 0, 0]);
    expect(t.kp.name).toBe('target');
  });

  it('refuses a segment at an address that is no address, or on a read-only page (EFAULT)', async () => {
    const w = world();
    const t = w.w.actor(22, 'target', { paged: true });
    t.mapPage(t.base);
    t.mapPage(t.base + 4096, false);
    const seg = (vaddr: number) => ({ vaddr, bytes: Uint8Array.of(1, 2, 3) });
    const main = async () => undefined;
    expect(await exec(w, t, { segments: [seg(-1)] }, main)).toBe(EFAULT);
    expect(await exec(w, t, { segments: [seg(t.base), seg(t.base + 4096)] }, main)).toBe(EFAULT);
    expect([...t.peek(t.base, 3), t.kp.inUse]).toEqual([0, 0, 0, true]);
  });

  it('loads the image, renames, clears the grant table and user state, and runs the new program in place of the old', async () => {
    const w = world();
    const t = w.w.actor(22, 'target');
    const log: string[] = [];
    await t.do(async (p) => {
      p.state('x', () => 1);
      t.kp.priv.grantTable = { addr: t.base, entries: 4, registeredBy: t.ep };
      return Promise.resolve();
    });
    const before = t.kp.incarnation;
    const r = await exec(
      w,
      t,
      {
        name: 'newname',
        segments: [
          { vaddr: t.base + 10, bytes: Uint8Array.of(7, 8) },
          { vaddr: t.base + 4096, bytes: Uint8Array.of(9) },
        ],
      },
      async (p) => {
        log.push(`new ${p.name} ${String(p.kp.userState.size)}`);
        await p.receive(ANY);
        log.push('new received');
      },
    );
    expect(r).toBe(OK);
    expect([...t.peek(t.base + 10, 2), ...t.peek(t.base + 4096, 1)]).toEqual([7, 8, 9]);
    expect([t.kp.name, t.kp.priv.grantTable, t.kp.incarnation]).toEqual(['newname', null, before + 1]);
    expect(log).toEqual(['new newname 0']);
    expect(w.w.trace.filter((e) => e.kind === 'proc' && e.op === 'exec')).toEqual([
      { step: expect.any(Number) as number, kind: 'proc', op: 'exec', ep: t.ep, name: 'newname' },
    ]);
    // The old program waited in receive: a message now reaches the new one, never the old loop.
    await w.admin.do((p) => p.send(t.ep, { type: 1 }));
    expect(log).toEqual(['new newname 0', 'new received']);
  });

  it('without a name or segments, keeps the name; a process blocked sending leaves the queue of its destination', async () => {
    const w = world();
    const t = w.w.actor(22, 'target');
    const sink = w.w.actor(23, 'sink');
    const got: string[] = [];
    // The sink waits for the admin alone: the target blocks in send to it.
    sink.start(async (p) => void got.push(`sink ${String((await p.receive(w.admin.ep)).type)}`));
    t.start(async (p) => {
      await p.send(sink.ep, { type: 5 });
      got.push('old send returned');
    });
    await w.w.k.run();
    expect(t.kp.rts & RTS.SENDING).toBe(RTS.SENDING);
    const r = await exec(w, t, {}, async (p) => {
      got.push('new ran');
      await p.receive(ANY);
    });
    expect([r, t.kp.name]).toEqual([OK, 'target']);
    // The sink takes the admin's message, then waits in receive(ANY): the old send is gone, nothing arrives.
    const s = sink.start(async (p) => void got.push(`sink ${String((await p.receive(ANY)).type)}`));
    await w.w.k.run();
    await w.admin.do((p) => p.send(sink.ep, { type: 6 }));
    expect(got).toEqual(['new ran', 'sink 6']);
    expect(s.done()).toBe(false);
    expect(sink.kp.rts & RTS.RECEIVING).toBe(RTS.RECEIVING);
  });

  it('a process blocked in sendrec is released from both halves (it takes notifications again); its TLB is flushed', async () => {
    const w = world();
    const t = w.w.actor(22, 'target', { paged: true });
    const server = w.w.actor(23, 'server');
    t.mapPage(t.base);
    const got: string[] = [];
    server.start(async (p) => {
      await p.receive(w.admin.ep);
    });
    t.start(async (p) => {
      await p.writeU32(t.base, 1);
      await p.sendrec(server.ep, { type: 5 });
      got.push('old sendrec returned');
    });
    await w.w.k.run();
    const kp: KProc = t.kp;
    const flushes = kp.tlb.stats.flushes;
    const r = await exec(w, t, {}, async (p) => {
      for (;;) got.push(`new got ${String((await p.receive(ANY)).source)}`);
    });
    expect([r, kp.tlb.stats.flushes - flushes]).toEqual([OK, 1]);
    await w.admin.do((p) => p.notify(t.ep));
    expect(got).toEqual([`new got ${String(w.admin.ep)}`]);
    // The server receives from anyone: the old request is not there.
    await w.admin.do((p) => p.send(server.ep, { type: 6 }));
    server.start(async (p) => void got.push(`server ${String((await p.receive(ANY)).type)}`));
    await w.w.k.run();
    expect(got).toEqual([`new got ${String(w.admin.ep)}`]);
  });
});
