// A step-by-step experiment (docs/api-guide.md walks through it). Run it with
//
//   npx grantvm run examples/step-by-step.ts -v
//
// The host drives two system services one action at a time with drivenActor, and looks at the system between
// actions:
//  1. the *owner* fills two pages of its buffer and grants the *reader* READ access to them;
//  2. the reader copies a piece of each page with one sys_vsafecopy, whose vector encodeScpVector builds;
//  3. the owner forks: the child of a system service starts held, and the snapshot shows the pages the two
//     share copy-on-write (refcount 2);
//  4. the owner releases the child (sys_privctl SET_USER, then ALLOW: releaseChild) and waits for it, run one
//     kernel entry at a time with a sanity check after each;
//  5. the host kills the reader; RS restarts it, and the new instance reads its own restart count.
// In a project that installed grantvm, import from 'grantvm' instead of '../src/index.ts'.
import {
  CPF_READ,
  OK,
  SELF,
  SIGKILL,
  SYS_VSAFECOPY,
  VM_MMAP,
  drivenActor,
  encodeScpVector,
  errnoName,
  kernelCallList,
  releaseChild,
  serviceInfo,
  vmCallList,
} from '../src/index.ts';
import type { Driven, Scenario, ScenarioOutput, System } from '../src/index.ts';

const PAGE = 4096;
/** The first bytes of the owner's two pages. */
const FIRST = 'first page';
const SECOND = 'second page';

/** The pages the process `endpoint` shares with another (refcount > 1), from the snapshot's per-block counts. */
function sharedPages(sys: System, endpoint: number): number {
  const proc = sys.inspect().vm.processes.find((p) => p.endpoint === endpoint);
  const blocks = proc?.regions.flatMap((r) => r.blocks) ?? [];
  return blocks.filter((b) => b.refcount > 1).reduce((n, b) => n + b.pages, 0);
}

async function grantAndCopy(sys: System, out: ScenarioOutput): Promise<void> {
  // The owner gets the privileges of MINIX's grant tests (GRANT_TEST_PRIV, the default); the reader only what it
  // uses: one kernel call, and mmap for the buffer drivenActor maps at every start.
  const owner = await drivenActor(sys, 'owner');
  const readerPriv = {
    ipcTo: 'all',
    kernelCalls: kernelCallList(SYS_VSAFECOPY),
    vmCalls: vmCallList(VM_MMAP),
  } as const;
  const reader = await drivenActor(sys, 'reader', { priv: readerPriv, maxRestarts: 1 });
  const text = new TextEncoder();

  // 1. One action of the owner: fill the pages, make the grant, hand its id back to the host.
  const gid = await owner.do(async (p, buf) => {
    await p.write(buf, text.encode(FIRST));
    await p.write(buf + PAGE, text.encode(SECOND));
    const g = await p.cpf.grantDirect(reader.ep, buf, 2 * PAGE, CPF_READ);
    return g.errno === OK ? g.id : g.errno;
  });
  if (!out.check('owner: cpf_grant_direct', gid >= 0, gid >= 0 ? `grant ${gid}` : errnoName(gid))) return;

  // 2. The reader copies the start of each page in one kernel call: a vector of two elements in its memory.
  const copied = await reader.do(async (p, buf) => {
    const vector = encodeScpVector([
      { from: owner.ep, to: SELF, gid, offset: 0, addr: buf, bytes: FIRST.length },
      { from: owner.ep, to: SELF, gid, offset: PAGE, addr: buf + 64, bytes: SECOND.length },
    ]);
    const vecAddr = buf + 4 * PAGE;
    await p.write(vecAddr, vector);
    const r = await p.sys.vsafecopy(vecAddr, 2);
    return r === OK
      ? `${await p.readString(buf, FIRST.length)} + ${await p.readString(buf + 64, SECOND.length)}`
      : errnoName(r);
  });
  out.check('reader: sys_vsafecopy copied from both pages', copied === `${FIRST} + ${SECOND}`, copied);

  await forkAndRelease(sys, out, owner);
  await restartReader(sys, out, reader);
}

async function forkAndRelease(sys: System, out: ScenarioOutput, owner: Driven): Promise<void> {
  // 3. The owner forks; the child checks it sees the owner's first page. It is held until its parent decides.
  const child = await owner.do((p, buf) =>
    p.fork(async (c) => ((await c.readString(buf, FIRST.length)) === FIRST ? 0 : 1), 'owner-child'),
  );
  const held = sys.inspect().processes.find((p) => p.endpoint === child)?.state ?? 'gone';
  out.check('the child of a system service starts held', held.includes('NO_PRIV'), held);
  out.check(
    'after fork, parent and child share their pages copy-on-write',
    sharedPages(sys, child) >= 2,
    `${sharedPages(sys, child)} shared pages`,
  );

  // 4. Release and wait, one kernel entry at a time, with the whole system checked after each entry.
  let entries = 0;
  const done = await owner.stepwise(
    async (p) => {
      const r = await releaseChild(p, child);
      return { released: r, ended: await p.wait() };
    },
    () => {
      entries++;
      sys.sanityCheck();
    },
  );
  out.expectResult('owner: releaseChild (sys_privctl SET_USER, ALLOW)', done.released, OK);
  const w = done.ended;
  out.check(
    'owner: wait() reports the child, exit status 0',
    w.endpoint === child && w.code === 0 && w.signal === 0,
    JSON.stringify(w),
  );
  out.line(`release and wait took ${entries} kernel entries, each followed by a sanity check`);
}

async function restartReader(sys: System, out: ScenarioOutput, reader: Driven): Promise<void> {
  // 5. Kill the reader: RS restarts it (maxRestarts 1) under the same label, at a new endpoint.
  const before = reader.ep;
  sys.kill(before, SIGKILL);
  await sys.run();
  const restarts = await reader.do((p) => Promise.resolve(serviceInfo(p)?.restarts ?? -1));
  out.check(
    'reader: restarted by RS at a new endpoint',
    reader.ep !== before && reader.alive(),
    `${before} → ${reader.ep}`,
  );
  out.check('reader: serviceInfo(p).restarts is 1 in the new instance', restarts === 1, String(restarts));
}

export const scenario: Scenario = {
  name: 'step-by-step',
  title: 'drive two services one action at a time: grant, vsafecopy, fork and release, restart',
  config: { sanity: 'top' },
  run: grantAndCopy,
};
