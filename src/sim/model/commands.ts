// The command language of model-based testing: what a small fixed set of actors (RS services, each with a known
// memory window) can ask of the grant machinery, VM and DS. Commands name actors by index and grants by the index
// of a previously created grant (`g`, taken modulo the grants that exist), so a shrunk sequence keeps its meaning.
// Entry points: Command, ACTORS, WINDOW_PAGES, generateCommands, formatCommand.
import type { ExecImage } from '../../include/vm.ts';
import { Rng } from '../../lib/rng.ts';

/** Actors (RS services fz0..fz2); each owns a window of WINDOW_PAGES pages and two scratch pages after it. */
export const ACTORS = 3;
export const WINDOW_PAGES = 8;
export const PAGE = 4096;
export const WINDOW_BYTES = WINDOW_PAGES * PAGE;
/**
 * Pages of each actor's mmap area, which starts 1 MiB above its window (executor.ts areaBase) and is unmapped at every
 * start; mmap / munmap / user reads and writes / safecopies work on it (a hinted mmap may place pages past its end).
 */
export const AREA_PAGES = 6;
/**
 * Pages of each actor's heap that are compared, from the heap's start (a service is a fork of RS and starts with
 * RS's 4-page heap); brk moves the break within them, or far past them into the stack (BRK_FAR: ENOMEM).
 */
export const HEAP_PAGES = 8;
/** A brk target far past the heap, beyond the stack region's start: ENOMEM. */
export const BRK_FAR = 0x70000000;
/**
 * The program a forked child execs (fork with `exec`): one page of text, data of a page and 100 bytes, 200 bytes
 * of bss, so the new heap has 2 pages (vm.md §8.6); its bytes are a known pattern. The new image reads the byte at
 * `pos` modulo EXEC_SPAN from VM_PROCSTART: text, data, bss (zeros), and a page past the heap (SIGSEGV).
 */
export const EXEC_IMAGE: ExecImage = {
  name: 'fz-exec',
  text: PAGE,
  data: PAGE + 100,
  bss: 200,
  tot: 0,
  args: 0,
  textBytes: Uint8Array.from({ length: PAGE }, (_, i) => 0x80 | (i % 97)),
  dataBytes: Uint8Array.from({ length: PAGE + 100 }, (_, i) => 1 + ((i * 7) % 113)),
};
/** The bytes of the exec'd image a child may read: text, the 2-page heap, and one page past it. */
export const EXEC_SPAN = 4 * PAGE;
/** Signals a parent kills its blocked child with (fork with `kill`): SIGKILL, SIGTERM. */
export const KILL_SIGNALS = [9, 15] as const;
/**
 * The DS keys the actors publish under, by key index: `fz.k0` is a prefix of `fz.k01` and `k01` a suffix of it, so a
 * subscription pattern matched without anchors (a substring search) catches keys a whole-key match does not.
 */
export const DS_KEY_NAMES = ['fz.k0', 'fz.k1', 'fz.k2', 'fz.k01'] as const;
/** DS keys the actors publish under (u32, STR and LABEL values). */
export const DS_KEYS = DS_KEY_NAMES.length;

/** Grant access sets the generator uses (CPF_READ 1, CPF_WRITE 2, CPF_MAP 4), the usable ones more often. */
export const ACCESS_SETS = [1, 2, 3, 5, 7, 7, 7, 7, 7] as const;
/** Grant offsets and copy lengths that straddle page boundaries and grant ends. */
export const COPY_OFFSETS = [0, 0, 0, 1, 100, PAGE - 1, PAGE, PAGE + 17] as const;
export const COPY_LENGTHS = [0, 1, 100, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 3 * PAGE] as const;
/** Copy lengths that fit a 2-page grant from an offset of at most 100: within a page, a whole page, with a tail. */
export const COPY_FITTING = [100, PAGE - 100, PAGE, PAGE + 17, 2 * PAGE - 200] as const;
/**
 * DS publish flags: 0, OVERWRITE, PRIV_RETRIEVE, OVERWRITE|PRIV_RETRIEVE, OVERWRITE|PRIV_OVERWRITE, PRIV_SUBSCRIBE,
 * OVERWRITE|PRIV_SUBSCRIBE, PRIV_OVERWRITE, and the PRIV bits together with OVERWRITE: PRIV bits on both sides, the
 * entry's and the request's, so a check of the wrong side's flags shows.
 */
export const DS_FLAG_SETS = [0, 0x1000, 0x002, 0x1002, 0x1004, 0x008, 0x1008, 0x004, 0x1006, 0x100e] as const;
/** MEM entries use the first two keys only, so that retrieves and deletes mostly find one. */
export const DS_MEM_KEYS = 2;
/**
 * MEM value lengths (window bytes published, or a retrieve's capacity): 0 (EDOM: a 0-byte safecopy), dstest's 8 and 21,
 * page edges.
 */
export const DS_MEM_LENGTHS = [0, 1, 8, 21, 100, PAGE, PAGE + 1, 3 * PAGE] as const;
/**
 * LABEL values (endpoints) the actors publish: three that no process has (endpoint = generation × 35536 + slot),
 * and DS's own endpoint, which the boot label `ds` holds (EEXIST; the executor drops OVERWRITE with it, which would
 * rename that system label).
 */
export const DS_LABEL_VALUES = [1234, 1235, 4321, 6] as const;
/** The LABEL values held by labels other than the actors' entries: DS's endpoint, by the boot label `ds`. */
export const DS_FOREIGN_LABELS: ReadonlyMap<number, string> = new Map([[6, 'ds']]);
/** STR values: empty, short, 15 bytes (the most), 16 bytes (EINVAL). */
export const DS_STRINGS = ['', 'a', 'little', 'fifteen-chars-x', 'sixteen-chars-xx'] as const;
/** MAP entries use the first two keys only, so that snapshots, retrieves and deletes mostly find one. */
export const DS_MAP_KEYS = 2;
/**
 * ds_publish_map flags: 0, PRIV_RETRIEVE, PRIV_OVERWRITE (= PRIV_SNAPSHOT), OVERWRITE (EINVAL for MAP),
 * PRIV_SUBSCRIBE.
 */
export const DS_MAP_FLAG_SETS = [0, 0x002, 0x002, 0x004, 0x1000, 0x008] as const;
/** Bytes a MAP retrieve copies at most (into the two scratch pages after the window). */
export const DS_MAP_CAPACITY = 2 * PAGE;
/**
 * Subscription patterns over DS_KEY_NAMES: whole-key regexes; `fz\\.k(` does not compile (EINVAL). Matched without
 * anchors, `fz\\.k0`, `fz\\.k[01]` and `fz\\.k(0|2)` would also take `fz.k01` (a prefix), `k01` would take it (a
 * suffix) and `z\\.k` every key (a substring), where a whole-key match takes none.
 */
export const DS_PATTERNS = [
  'fz\\.k0',
  'fz\\.k[01]',
  'fz\\.k.*',
  'fz\\.k(0|2)',
  'fz\\.k(',
  'k01',
  'z\\.k',
] as const;
/** Subscribe flags: type filter none / U32 / STR, with DSF_INITIAL (0x2000) and DSF_OVERWRITE (0x1000). */
export const DS_SUB_FLAG_SETS = [0, 0x2000, 0x1000, 0x3000, 0x3010, 0x3020, 0x20] as const;

/** One safecopy: `from` copies grant bytes into the actor's window at `pos`, `to` the other way. */
export interface CopySpec {
  dir: 'from' | 'to';
  g: number;
  gOff: number;
  pos: number;
  len: number;
}

export type Command =
  | { k: 'write'; a: number; pos: number; len: number; byte: number }
  | { k: 'grant'; a: number; to: number; page: number; pages: number; access: number }
  | { k: 'indirect'; a: number; to: number; g: number }
  | { k: 'magic'; a: number; to: number; from: number; page: number; access: number }
  /**
   * VFS's calls (the one process whose magic grants the kernel honours): a magic grant to actor `to` over
   * `pages` pages of actor `a`'s window from `page` (who_from is a's current instance), a revoke or a
   * saferevmap_gid of one of VFS's grants (`g` among those over a's memory, else among all of VFS's).
   */
  | { k: 'vmagic'; a: number; to: number; page: number; pages: number; access: number }
  | { k: 'vrevoke'; a: number; g: number }
  | { k: 'vrevmap'; a: number; g: number }
  /** A crash of the memory owner of VFS's grant `g` (among all of VFS's grants), or of actor `a` while VFS has none. */
  | { k: 'vcrash'; a: number; g: number }
  | { k: 'revoke'; a: number; g: number }
  | {
      k: 'setgrant';
      a: number;
      g: number;
      to: number;
      page: number;
      pages: number;
      access: number;
      disable: boolean;
    }
  /**
   * With `ro`, a copy from a grant goes to a page the actor holds read-only through a safemap, if it has one (the
   * executor picks it; otherwise `pos` stands): the destination check's EFAULT, rare by chance.
   */
  | ({ k: 'copy'; a: number; ro?: boolean } & CopySpec)
  /** An element with `ro` goes to a page the actor holds read-only, as a copy with `ro` does. */
  | { k: 'vcopy'; a: number; items: (CopySpec & { ro?: boolean })[] }
  | { k: 'map'; a: number; g: number; gOffPages: number; page: number; pages: number; writable: boolean }
  | { k: 'unmap'; a: number; page: number }
  | { k: 'revmap'; a: number; g: number }
  /** A u32 publish, or a STR one when `str` is given (retrieve and delete name the type with `str` too). */
  | { k: 'publish'; a: number; key: number; value: number; flags: number; str?: string }
  | { k: 'retrieve'; a: number; key: number; str?: boolean }
  | { k: 'delete'; a: number; key: number; str?: boolean }
  /** ds_subscribe with DS_PATTERNS[pattern]; ds_check reports the lowest pending key, its type and owner. */
  | { k: 'subscribe'; a: number; pattern: number; flags: number }
  /**
   * With `notify`, the actor first takes DS's notification if one is pending (outside a pair), and the outcome says
   * whether there was one: subscribers receive what DS sends them instead of only polling.
   */
  | { k: 'check'; a: number; notify?: boolean }
  /**
   * DS MAP entries under the same keys: ds_publish_map of window pages [page, page+pages), ds_snapshot_map,
   * ds_retrieve_map of the live bytes (COPY_MAPPED, no `n`) or of snapshot `n` (COPY_SNAPSHOT), or with `page` a
   * read-only live mapping at that window page (MAP_MAPPED, up to DS_MAP_CAPACITY), ds_delete_map.
   */
  | { k: 'mpublish'; a: number; key: number; page: number; pages: number; flags: number }
  | { k: 'msnapshot'; a: number; key: number }
  | { k: 'mretrieve'; a: number; key: number; n?: number; page?: number }
  | { k: 'mdelete'; a: number; key: number }
  /**
   * DS MEM entries under the same keys: ds_publish_mem of window bytes [pos, pos+len), ds_retrieve_mem into the
   * window at `pos` with capacity `len` (min(len, the value's length) bytes come back), ds_delete_mem.
   */
  | { k: 'mempublish'; a: number; key: number; pos: number; len: number; flags: number }
  | { k: 'memretrieve'; a: number; key: number; pos: number; len: number }
  | { k: 'memdelete'; a: number; key: number }
  /**
   * DS LABEL entries under the same keys: ds_publish_label of DS_LABEL_VALUES[v], ds_retrieve_label_num,
   * ds_retrieve_label_name of DS_LABEL_VALUES[v], ds_delete_label.
   */
  | { k: 'lpublish'; a: number; key: number; v: number; flags: number }
  | { k: 'lretrieve'; a: number; key: number }
  | { k: 'lname'; a: number; v: number }
  | { k: 'ldelete'; a: number; key: number }
  | { k: 'crash'; a: number }
  /**
   * The actor forks a child that reads the window byte at `pos` (its fork-time snapshot), writes `byte` there (its
   * private copy) and exits with the byte it read as its status; the actor releases it, waits, and returns it.
   * With `exec` the child then execs EXEC_IMAGE, which exits with the byte of its own image at `pos` mod EXEC_SPAN.
   * With `kill` the child blocks instead (in a sendrec to the actor, which receives and never replies) and the
   * actor kills it with that signal, waits (the signal comes back) and kills it again (ESRCH).
   */
  | { k: 'fork'; a: number; pos: number; byte: number; exec?: boolean; kill?: number }
  /** mmap of anonymous private pages in the area: at `page` exactly (MAP_FIXED) or with `page` as the hint. */
  | { k: 'mmap'; a: number; page: number; pages: number; fixed: boolean }
  | { k: 'munmap'; a: number; page: number; pages: number }
  /**
   * A user write / a user read of one 32-bit word in the area, at byte `pos` of it; with `heap`, in the heap
   * instead (`pos` from the heap's start).
   */
  | { k: 'awrite'; a: number; pos: number; len: number; byte: number; heap?: boolean }
  | { k: 'aread'; a: number; pos: number; heap?: boolean }
  /** A safecopy between a grant and the area (`pos` is a byte offset in the area), or with `heap` the heap. */
  | ({ k: 'acopy'; a: number; heap?: boolean } & CopySpec)
  /** brk to `at` bytes from the heap's start (rounded up to a page by VM; may be negative or BRK_FAR). */
  | { k: 'brk'; a: number; at: number }
  /** Two commands of different actors in flight together; the outcome must be one of the two serial orders. */
  | { k: 'pair'; first: SingleCommand; second: SingleCommand };

export type CommandKind = Command['k'];
export type SingleCommand = Exclude<Command, { k: 'pair' }>;

/**
 * Kinds that may run in a pair. Not a crash (the other command names actors by their instance when it is
 * planned), nor a user write or vsafecopy, which are not atomic (page by page, element by element), nor a copy,
 * whose COW path maps the middle pages before it copies the head and tail.
 */
export const PAIRABLE: readonly Exclude<CommandKind, 'pair'>[] = [
  'grant',
  'indirect',
  'magic',
  'revoke',
  'setgrant',
  'map',
  'unmap',
  'revmap',
  'publish',
  'retrieve',
  'delete',
  'subscribe',
  'check',
  'memdelete',
  'lpublish',
  'lretrieve',
  'lname',
  'ldelete',
];

/** Every command kind, in a fixed order (fast-check arbitraries pick from it). */
export const COMMAND_KINDS: readonly CommandKind[] = [
  'write',
  'grant',
  'indirect',
  'magic',
  'vmagic',
  'vrevoke',
  'vrevmap',
  'vcrash',
  'revoke',
  'setgrant',
  'copy',
  'vcopy',
  'map',
  'unmap',
  'revmap',
  'publish',
  'retrieve',
  'delete',
  'subscribe',
  'check',
  'mpublish',
  'msnapshot',
  'mretrieve',
  'mdelete',
  'mempublish',
  'memretrieve',
  'memdelete',
  'lpublish',
  'lretrieve',
  'lname',
  'ldelete',
  'crash',
  'fork',
  'mmap',
  'munmap',
  'awrite',
  'aread',
  'acopy',
  'brk',
  'pair',
];

/** Relative frequencies of the command kinds in generated sequences. */
const WEIGHTS: readonly [CommandKind, number][] = [
  ['write', 4],
  ['grant', 7],
  ['indirect', 1],
  ['magic', 1],
  ['vmagic', 3],
  ['vrevoke', 1],
  ['vrevmap', 1],
  ['vcrash', 1],
  ['revoke', 2],
  ['setgrant', 2],
  ['copy', 5],
  ['vcopy', 2],
  ['map', 6],
  ['unmap', 1],
  ['revmap', 1],
  ['publish', 4],
  ['retrieve', 2],
  ['delete', 2],
  ['subscribe', 2],
  ['check', 2],
  ['mpublish', 4],
  ['msnapshot', 2],
  ['mretrieve', 2],
  ['mdelete', 2],
  ['mempublish', 3],
  ['memretrieve', 3],
  ['memdelete', 1],
  ['lpublish', 2],
  ['lretrieve', 1],
  ['lname', 1],
  ['ldelete', 1],
  ['crash', 1],
  ['fork', 1],
  ['mmap', 4],
  ['munmap', 2],
  ['awrite', 1],
  ['aread', 1],
  ['acopy', 2],
  ['brk', 2],
  ['pair', 3],
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  const x = xs[rng.int(xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

/** A DS key index: the trap key `fz.k01` one time in five, else one of the three plain keys (so keys collide often). */
const dsKeyIndex = (rng: Rng): number => (rng.int(5) === 0 ? DS_KEYS - 1 : rng.int(DS_KEYS - 1));

/**
 * One safecopy. Half the time one that fits a grant of two pages at the same offset in a page on both sides (so it
 * mostly passes verification and, over a whole page, takes the copy-on-write path with a head or a tail), else
 * any offsets and lengths (range errors, 0 bytes).
 */
function copySpec(rng: Rng): CopySpec {
  const dir = rng.int(2) === 0 ? 'from' : 'to';
  const g = rng.int(32);
  const page = rng.int(WINDOW_PAGES) * PAGE;
  if (rng.int(2) === 0) {
    const gOff = pick(rng, [0, 1, 100]);
    return { dir, g, gOff, pos: page + gOff, len: pick(rng, COPY_FITTING) };
  }
  return {
    dir,
    g,
    gOff: pick(rng, COPY_OFFSETS),
    pos: page + pick(rng, [0, 0, 1, 100, PAGE - 1]),
    len: pick(rng, COPY_LENGTHS),
  };
}

/** A copy from a grant aimed at a read-only page one time in four (`ro`): EFAULT, rare by chance. */
function maybeReadOnly(rng: Rng, c: CopySpec): CopySpec & { ro?: boolean } {
  return c.dir === 'from' && rng.int(4) === 0 ? { ...c, ro: true } : c;
}

/** One random command of the given kind (the same shapes the fast-check arbitraries in the tests build). */
export function randomCommand(rng: Rng, k: CommandKind): Command {
  if (k === 'pair') {
    const first = paired(single(rng, pick(rng, PAIRABLE)));
    const other = paired(single(rng, pick(rng, PAIRABLE)));
    return { k, first, second: { ...other, a: (first.a + 1 + rng.int(ACTORS - 1)) % ACTORS } };
  }
  return single(rng, k);
}

/** A grantee: another actor three times in four (a grant to oneself cannot be safemapped), else `a` itself. */
const other = (rng: Rng, a: number): number =>
  rng.int(4) === 0 ? a : (a + 1 + rng.int(ACTORS - 1)) % ACTORS;

/** A command as a pair runs it: a check takes no notification there (it would not be atomic). */
const paired = (c: SingleCommand): SingleCommand => (c.k === 'check' ? { k: c.k, a: c.a } : c);

function single(rng: Rng, k: Exclude<CommandKind, 'pair'>): SingleCommand {
  const a = rng.int(ACTORS);
  switch (k) {
    case 'write':
      return {
        k,
        a,
        pos: rng.int(WINDOW_BYTES),
        len: pick(rng, [1, 7, PAGE, 2 * PAGE]),
        byte: 1 + rng.int(255),
      };
    case 'grant':
      return {
        k,
        a,
        to: other(rng, a),
        page: rng.int(WINDOW_PAGES),
        pages: 1 + rng.int(3),
        access: pick(rng, ACCESS_SETS),
      };
    case 'indirect':
      return { k, a, to: rng.int(ACTORS), g: rng.int(32) };
    case 'magic':
      return {
        k,
        a,
        to: rng.int(ACTORS),
        from: rng.int(ACTORS),
        page: rng.int(WINDOW_PAGES),
        access: pick(rng, ACCESS_SETS),
      };
    case 'vmagic':
      return {
        k,
        a,
        to: other(rng, a),
        page: rng.int(WINDOW_PAGES),
        pages: 1 + rng.int(2),
        access: pick(rng, ACCESS_SETS),
      };
    case 'revoke':
    case 'revmap':
    case 'vrevoke':
    case 'vrevmap':
    case 'vcrash':
      return { k, a, g: rng.int(32) };
    case 'setgrant':
      return {
        k,
        a,
        g: rng.int(32),
        to: rng.int(ACTORS),
        page: rng.int(WINDOW_PAGES),
        pages: 1 + rng.int(3),
        access: pick(rng, ACCESS_SETS),
        disable: rng.int(4) === 0,
      };
    case 'copy':
      return { k, a, ...maybeReadOnly(rng, copySpec(rng)) };
    case 'vcopy':
      return { k, a, items: [maybeReadOnly(rng, copySpec(rng)), maybeReadOnly(rng, copySpec(rng))] };
    case 'map':
      return {
        k,
        a,
        g: rng.int(32),
        gOffPages: rng.int(4) === 0 ? 1 : 0,
        page: rng.int(WINDOW_PAGES),
        pages: 1 + rng.int(2),
        writable: rng.int(3) === 0,
      };
    case 'unmap':
      return { k, a, page: rng.int(WINDOW_PAGES) };
    case 'publish': {
      const c = { k, a, key: dsKeyIndex(rng), value: rng.next(), flags: pick(rng, DS_FLAG_SETS) };
      return rng.int(3) === 0 ? { ...c, str: pick(rng, DS_STRINGS) } : c;
    }
    case 'retrieve':
    case 'delete':
      return rng.int(3) === 0 ? { k, a, key: dsKeyIndex(rng), str: true } : { k, a, key: dsKeyIndex(rng) };
    case 'subscribe':
      return { k, a, pattern: rng.int(DS_PATTERNS.length), flags: pick(rng, DS_SUB_FLAG_SETS) };
    case 'check':
      return rng.int(3) === 0 ? { k, a } : { k, a, notify: true };
    case 'mpublish':
      return {
        k,
        a,
        key: rng.int(DS_MAP_KEYS),
        page: rng.int(WINDOW_PAGES),
        pages: 1 + rng.int(2),
        flags: pick(rng, DS_MAP_FLAG_SETS),
      };
    case 'msnapshot':
    case 'mdelete':
      return { k, a, key: rng.int(DS_MAP_KEYS) };
    case 'mretrieve': {
      const mode = rng.int(3);
      const key = rng.int(DS_MAP_KEYS);
      if (mode === 1) return { k, a, key, n: rng.int(8) };
      return mode === 2 ? { k, a, key, page: rng.int(WINDOW_PAGES) } : { k, a, key };
    }
    case 'mempublish':
    case 'memretrieve': {
      const pos = rng.int(WINDOW_PAGES) * PAGE + pick(rng, [0, 0, 1, 100, PAGE - 1]);
      const c = { a, key: rng.int(DS_MEM_KEYS), pos, len: pick(rng, DS_MEM_LENGTHS) };
      if (k === 'memretrieve') return { k, ...c };
      // OVERWRITE half the time besides the flag sets': MEM keys are few, an overwrite by another owner is the point.
      return { k, ...c, flags: pick(rng, DS_FLAG_SETS) | (rng.int(2) === 0 ? 0x1000 : 0) };
    }
    case 'lpublish':
      return {
        k,
        a,
        key: dsKeyIndex(rng),
        v: rng.int(DS_LABEL_VALUES.length),
        flags: pick(rng, DS_FLAG_SETS),
      };
    case 'lname':
      return { k, a, v: rng.int(DS_LABEL_VALUES.length) };
    case 'memdelete':
      return { k, a, key: rng.int(DS_MEM_KEYS) };
    case 'lretrieve':
    case 'ldelete':
      return { k, a, key: dsKeyIndex(rng) };
    case 'crash':
      return { k, a };
    case 'fork': {
      const c = { k, a, pos: rng.int(WINDOW_BYTES), byte: 1 + rng.int(255) };
      const mode = rng.int(3);
      if (mode === 1) return { ...c, exec: true };
      return mode === 2 ? { ...c, kill: pick(rng, KILL_SIGNALS) } : c;
    }
    case 'mmap':
      return { k, a, page: rng.int(AREA_PAGES), pages: 1 + rng.int(3), fixed: rng.int(2) === 0 };
    case 'munmap':
      return { k, a, page: rng.int(AREA_PAGES + 1), pages: pick(rng, [1, 1, 1, 2, 3]) };
    case 'awrite':
    case 'aread':
    case 'acopy': {
      // One time in three the heap instead of the area.
      const heap = rng.int(3) === 0;
      // In the heap, half the time a page of the first half, below the first break (4 pages): above it is a SIGSEGV.
      const span = !heap ? AREA_PAGES : rng.int(2) === 0 ? HEAP_PAGES / 2 : HEAP_PAGES;
      const page = rng.int(span) * PAGE;
      const where = heap ? { heap } : {};
      if (k === 'aread') return { k, a, pos: page + pick(rng, [0, 4, PAGE - 2]), ...where };
      if (k === 'acopy')
        return { k, a, ...copySpec(rng), pos: page + pick(rng, [0, 0, 1, 100, PAGE - 1]), ...where };
      return {
        k,
        a,
        pos: page + pick(rng, [0, 1, 100, PAGE - 1]),
        len: pick(rng, [1, 7, PAGE, 2 * PAGE]),
        byte: 1 + rng.int(255),
        ...where,
      };
    }
    case 'brk':
      return {
        k,
        a,
        at:
          rng.int(8) === 0 ? BRK_FAR : (rng.int(HEAP_PAGES + 1) - 1) * PAGE + pick(rng, [0, 0, 1, PAGE - 1]),
      };
  }
}

/**
 * Families of command kinds for swarm testing: most runs leave some families out, so the kinds left in meet each
 * other more often (a DS entry's second publisher, a read-only safemap's writer) within the same run length. A kind
 * in two families is drawn when either is in.
 */
export const FAMILIES: readonly (readonly CommandKind[])[] = [
  ['write', 'grant', 'indirect', 'magic', 'revoke', 'setgrant', 'copy', 'vcopy', 'map', 'unmap', 'revmap'],
  ['grant', 'mmap', 'munmap', 'awrite', 'aread', 'acopy', 'brk'],
  ['publish', 'retrieve', 'delete', 'subscribe', 'check', 'lpublish', 'lretrieve', 'lname', 'ldelete'],
  [
    'mpublish',
    'msnapshot',
    'mretrieve',
    'mdelete',
    'mempublish',
    'memretrieve',
    'memdelete',
    'subscribe',
    'check',
  ],
  ['crash', 'fork', 'pair'],
  // VFS's magic grants over the actors' windows, their uses, and crashes of the memory owners (EDEADSRCDST).
  ['vmagic', 'vrevoke', 'vrevmap', 'vcrash', 'copy', 'vcopy', 'map', 'unmap', 'acopy'],
];

/** The kinds a run draws from: every kind one run in four, else the kinds of a random nonempty set of families. */
export function swarmKinds(rng: Rng): ReadonlySet<CommandKind> {
  const on = FAMILIES.filter(() => rng.int(2) === 0);
  const all = rng.int(4) === 0 || on.length === 0;
  return new Set(all ? COMMAND_KINDS : on.flat());
}

/** A sequence of `n` commands drawn from `seed` (same seed, same sequence), from the kinds swarmKinds picks. */
export function generateCommands(seed: number, n: number): Command[] {
  const rng = new Rng(seed);
  const kinds = swarmKinds(rng);
  const weights = WEIGHTS.filter(([k]) => kinds.has(k));
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const out: Command[] = [];
  for (let i = 0; i < n; i++) {
    let r = rng.int(total);
    let kind: CommandKind = 'write';
    for (const [k, w] of weights) {
      if (r < w) {
        kind = k;
        break;
      }
      r -= w;
    }
    out.push(randomCommand(rng, kind));
  }
  return out;
}

/** A one-line rendering of a command, for failure reports. */
export function formatCommand(c: Command): string {
  return JSON.stringify(c);
}
