// A VM workload (the demo of `grantvm run`): a process that uses its heap, mmaps, forks a child that
// breaks copy-on-write, unmaps a middle page, grows its heap with brk, and execs a new image.
// Entry point: vmDemo. Results go to the `report` callback, the program's stdout.
import { MAP_ANON, MAP_PRIVATE, VM_PROCSTART, VM_STACKTOP } from '../include/vm.ts';
import type { ExecImage } from '../include/vm.ts';
import { OK } from '../include/errno.ts';
import { vmMmap, vmMunmap } from '../libsys/vm.ts';
import type { Program, Proc } from '../libsys/proc.ts';

export interface DemoReport {
  check(name: string, ok: boolean, detail?: string): void;
  line(text: string): void;
  /** The host draws this process's memory picture here (like running IS's memory dump). */
  picture?(title: string, endpoint: number): void;
}

const PAGE = 4096;
const TEXT_PAGES = 4;
const HEAP = VM_PROCSTART + TEXT_PAGES * PAGE;

async function fillPage(p: Proc, addr: number, byte: number): Promise<void> {
  await p.write(addr, new Uint8Array(PAGE).fill(byte));
}

async function pageIs(p: Proc, addr: number, byte: number): Promise<boolean> {
  const b = await p.read(addr, PAGE);
  return b.every((x) => x === byte);
}

/** The second image: its data segment arrives with the bytes the loader copied; the rest is zero. */
export const demoImage2: ExecImage = {
  name: 'vm-demo-2',
  text: 2 * PAGE,
  data: PAGE,
  bss: PAGE,
  tot: 0,
  args: 0,
  dataBytes: new TextEncoder().encode('hello from the new image'),
};

export function vmDemo(r: DemoReport): Program {
  return async (p) => {
    await p.writeU32(HEAP, 0xc0ffee);
    r.check('heap page demand-zero, then written', (await p.readU32(HEAP)) === 0xc0ffee && (await p.readU32(HEAP + 4)) === 0);

    const a = await vmMmap(p, 0, 4 * PAGE, MAP_ANON | MAP_PRIVATE);
    r.check('mmap of 4 pages lands at VM_STACKTOP', a === VM_STACKTOP, `got 0x${a.toString(16)}`);
    for (let i = 0; i < 4; i++) await fillPage(p, a + i * PAGE, 0x41 + i);

    const child = await p.fork(async (c) => {
      const sawParent = await pageIs(c, a, 0x41);
      await fillPage(c, a, 0x5a);
      const ownWrite = await pageIs(c, a, 0x5a);
      return sawParent && ownWrite ? 7 : 1;
    }, 'vm-demo-child');
    r.check('fork returns the child endpoint', child > 0, `child ${child}`);
    r.picture?.('parent right after fork: its written pages are now copy-on-write shared', p.endpoint);
    const w = await p.wait();
    r.check('child saw the parent data and wrote its own copy (exit 7)', w.endpoint === child && w.code === 7, `exit ${w.code}`);
    r.check("parent's page unchanged by the child's write (COW)", await pageIs(p, a, 0x41));

    r.check('munmap of the middle page', (await vmMunmap(p, a + PAGE, PAGE)) === OK);
    r.check('pages around the hole keep their data', (await pageIs(p, a, 0x41)) && (await pageIs(p, a + 2 * PAGE, 0x43)));

    const end = HEAP + 4 * PAGE;
    r.check('brk grows the heap by two pages', (await p.brk(end + 2 * PAGE)) === OK);
    await p.writeU32(end + PAGE, 99);
    r.check('the new heap page is usable', (await p.readU32(end + PAGE)) === 99);
    r.picture?.('after the child exited, munmap of the middle page and brk', p.endpoint);

    r.line('exec vm-demo-2 …');
    const e = await p.exec(demoImage2, async (q) => {
      const text = await q.readString(VM_PROCSTART + 2 * PAGE, 64);
      r.check('exec: the new image runs with its data loaded', text === 'hello from the new image', JSON.stringify(text));
      r.check('exec: the old mapping is gone from the new image', (await vmMunmap(q, a, PAGE)) !== OK);
      return 0;
    });
    r.check('exec returned (it should not)', false, `result ${e}`);
    return 1;
  };
}
