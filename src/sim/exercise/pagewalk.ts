// Exercise topic 'pagewalk': the i386 two-level page walk (vm.md §4) on a real process's tables. A user program
// maps and writes pages and forks (its pages become read-only copy-on-write until written again); the problem
// prints the page-directory and page-table entries a walk needs, in hex as they sit in the frames, and asks what
// each user access translates to, or why it faults (absent, read-only, supervisor). Answers come from the MMU's own
// translate on the process's tables. Entry points: pagewalkTopic, pagewalkExercise, PagewalkGivens.
import { PTE, pdeIndex, pteIndex, translate } from '../../hw/mmu.ts';
import { MAP_ANON, MAP_PRIVATE, VM_PROCSTART, VM_STACKTOP } from '../../include/vm.ts';
import type { Rng } from '../../lib/rng.ts';
import { assert } from '../../lib/assert.ts';
import { vmMmap } from '../../libsys/vm.ts';
import type { System } from '../system.ts';
import { bootSmall, distinctInts, exerciseRng, hex } from './common.ts';
import type { Answer, Block, Exercise, Question, Topic } from './types.ts';

/** One table entry as printed: its index and its 32-bit value. */
export interface Entry {
  /** Index in its table (0..1023). */
  index: number;
  /** The entry. */
  value: number;
}

/** What the student is given: directory entries, page tables (by frame), the accesses. */
export interface PagewalkGivens {
  /** Frame of the page directory. */
  dirFrame: number;
  /** The directory entries the walks read. */
  dir: Entry[];
  /** For each present 4 KiB directory entry: its page table's frame and the entries the walks read (and neighbours). */
  tables: { frame: number; entries: Entry[] }[];
  /** The user-mode accesses to translate. */
  accesses: { vaddr: number; write: boolean }[];
}

const MMAP_PAGES = 8;

/** The program: mmap 8 pages, write some, fork a child that exits (all become read-only COW), write some again. */
async function buildProcess(
  sys: System,
  rng: Rng,
): Promise<{ dirFrame: number; base: number; pages: number[] }> {
  const first = distinctInts(rng, 5, 0, MMAP_PAGES);
  const again = first.slice(0, 2);
  let base = -1;
  const h = sys.spawn(
    async (p) => {
      base = await vmMmap(p, 0, MMAP_PAGES * 4096, MAP_ANON | MAP_PRIVATE);
      for (const i of first) await p.writeU32(base + i * 4096, i);
      await p.fork(() => Promise.resolve(0));
      await p.wait();
      for (const i of again) await p.writeU32(base + i * 4096, i + 1);
      for (;;) await p.receive();
    },
    { name: 'walker' },
  );
  await sys.run();
  const kp = sys.kernel.liveProc(h.endpoint ?? -1);
  assert(kp !== null && base > 0, 'pagewalk: the program did not set up its pages');
  return {
    dirFrame: kp.dirFrame,
    base,
    pages: [...first, ...Array.from({ length: MMAP_PAGES }, (_, i) => i).filter((i) => !first.includes(i))],
  };
}

/** Six accesses: mapped pages (written, read-only, untouched), the kernel's 4 MiB page, an empty directory slot. */
function chooseAccesses(rng: Rng, base: number, level: number): { vaddr: number; write: boolean }[] {
  const offset = (): number => rng.int(1024) * 4;
  const inMap = distinctInts(rng, 4, 0, MMAP_PAGES).map((i) => base + i * 4096 + offset());
  const kernel = 0x100000 + rng.int(0x300) * 0x1000 + offset();
  const used = [pdeIndex(base), pdeIndex(VM_PROCSTART), pdeIndex(VM_STACKTOP - 1)];
  let empty = used[0] ?? 0;
  while (used.includes(empty)) empty = 0x70 + rng.int(0x180);
  const vaddrs = [...inMap, kernel, empty * 0x400000 + rng.int(1024) * 0x1000 + offset()];
  const order = distinctInts(rng, vaddrs.length, 0, vaddrs.length);
  return order.map((i) => ({ vaddr: vaddrs[i] ?? 0, write: level > 1 && rng.int(2) === 0 }));
}

/** The directory and table entries the walks read, with one neighbour either side in each page table. */
function visibleEntries(
  sys: System,
  dirFrame: number,
  accesses: readonly { vaddr: number }[],
): Pick<PagewalkGivens, 'dir' | 'tables'> {
  const dirIdx = [...new Set(accesses.map((a) => pdeIndex(a.vaddr)))].sort((a, b) => a - b);
  const dir = dirIdx.map((index) => ({ index, value: sys.mem.pteRead(dirFrame, index) }));
  const tables = dir
    .filter((d) => (d.value & PTE.P) !== 0 && (d.value & PTE.PS) === 0)
    .map((d) => {
      const frame = d.value >>> 12;
      const want = new Set<number>();
      for (const a of accesses)
        if (pdeIndex(a.vaddr) === d.index)
          for (const i of [-1, 0, 1]) want.add(Math.min(1023, Math.max(0, pteIndex(a.vaddr) + i)));
      const entries = [...want]
        .sort((a, b) => a - b)
        .map((index) => ({ index, value: sys.mem.pteRead(frame, index) }));
      return { frame, entries };
    });
  return { dir, tables };
}

const flagText = (v: number): string =>
  [
    ['P', PTE.P],
    ['W', PTE.W],
    ['U', PTE.U],
    ['PS', PTE.PS],
  ]
    .filter(([, b]) => (v & Number(b)) !== 0)
    .map(([n]) => n)
    .join(' ') || 'none';

/** The model's answer for one access: the MMU's translate, and for a protection fault whether U or W was missing. */
function solve(sys: System, dirFrame: number, a: { vaddr: number; write: boolean }): Answer {
  const pde = sys.mem.pteRead(dirFrame, pdeIndex(a.vaddr));
  const pte =
    (pde & PTE.P) !== 0 && (pde & PTE.PS) === 0 ? sys.mem.pteRead(pde >>> 12, pteIndex(a.vaddr)) : null;
  const steps =
    `PDE[${hex(pdeIndex(a.vaddr))}] = ${hex(pde, 8)} (${flagText(pde)})` +
    (pte === null ? '' : `, PTE[${hex(pteIndex(a.vaddr))}] = ${hex(pte, 8)} (${flagText(pte)})`);
  const t = translate(sys.mem, dirFrame, a.vaddr, a.write, true);
  if (t.ok)
    return {
      id: '',
      value: hex(t.pa),
      why: `${steps}: frame ${hex(t.pa >>> 12)} + offset ${hex(a.vaddr & 0xfff)}`,
    };
  if (!t.fault.present) return { id: '', value: 'fault: absent', why: `${steps}: a level is not present` };
  const userRead = translate(sys.mem, dirFrame, a.vaddr, false, true).ok;
  return userRead
    ? {
        id: '',
        value: 'fault: read-only',
        why: `${steps}: W is clear at some level (a copy-on-write page since the fork)`,
      }
    : { id: '', value: 'fault: supervisor', why: `${steps}: U is clear (the kernel's 4 MiB page)` };
}

/** Generates and solves one page-walk problem; level 1 reads only, level 2 reads and writes. */
export async function pagewalkExercise(seed: number, level: number): Promise<Exercise<PagewalkGivens>> {
  const rng = exerciseRng('pagewalk', seed, level);
  const sys = await bootSmall();
  const { dirFrame, base } = await buildProcess(sys, rng);
  const accesses = chooseAccesses(rng, base, level);
  const givens: PagewalkGivens = { dirFrame, ...visibleEntries(sys, dirFrame, accesses), accesses };
  const questions: Question[] = accesses.map((a, i) => ({
    id: String(i + 1),
    text: `user ${a.write ? 'write' : 'read'} at ${hex(a.vaddr, 8)}: physical address (hex), or fault: absent | read-only | supervisor?`,
  }));
  const answers = accesses.map((a, i) => ({ ...solve(sys, dirFrame, a), id: String(i + 1) }));
  return {
    topic: 'pagewalk',
    seed,
    level,
    title: 'Walk the page tables',
    statement: statement(givens),
    questions,
    answers,
    givens,
  };
}

function statement(g: PagewalkGivens): Block[] {
  const line = (e: Entry): string => `  [${hex(e.index, 3)}] ${hex(e.value, 8)}`;
  return [
    {
      kind: 'text',
      text:
        'An i386 process (4 KiB pages, two levels). A virtual address splits into directory index (bits 31–22), table index (bits 21–12) and offset (bits 11–0). ' +
        'Entry bits: P 0x001 present, W 0x002 writable, U 0x004 user, PS 0x080 a 4 MiB page (frame in bits 31–22), G 0x100 global (no effect here); the frame is in bits 31–12. ' +
        'A user access needs P and U at both levels, a write also W at both. Only the entries the walks read are shown (with neighbours).',
    },
    {
      kind: 'code',
      lines: [
        `page directory (frame ${hex(g.dirFrame)}):`,
        ...g.dir.map(line),
        ...g.tables.flatMap((t) => [`page table (frame ${hex(t.frame)}):`, ...t.entries.map(line)]),
      ],
    },
  ];
}

/** The page-walk topic. */
export const pagewalkTopic: Topic = {
  name: 'pagewalk',
  summary:
    'page walk: hex page directory and tables; translate user reads (and writes) or say why they fault',
  levels: 2,
  generate: pagewalkExercise,
};
