// Runs a command sequence on a real system and on the naive oracle side by side (model-based testing). After
// every command: the return codes (and grant ids, retrieved values), every actor's window, area and heap bytes
// and the actors' DS entries (DS's copy of a MEM value, DS's window of a MAP entry too) must agree, and
// sys.sanityCheck() must hold (after every kernel entry with `everyStep`): VM's full check every `fullEvery`
// checks, its incremental check of what changed in between, and a full one at the end; a pair of commands in flight
// together must match one of its two serial orders (or a revoke's two steps with the other command between them). At the end every actor is taken down (RS_DOWN) and nothing may
// leak: VM frames and slab objects back to their counts before the run, no safemap record, no DS entry of an actor.
// Entry points: runModel, readWindow, areaBase, HEAP_BASE, ACTOR_HEAP, ModelOptions, ModelRun, Violation,
// CheckCounts.
import { errnoName } from '../../include/errno.ts';
import { KERNEL_CALL, SYS_VSAFECOPY } from '../../include/com.ts';
import { DSF_OVERWRITE, DSMF_COPY_MAPPED, DSMF_COPY_SNAPSHOT, DSMF_MAP_MAPPED } from '../../include/ds.ts';
import { DS_PROC_NR, SELF } from '../../include/endpoint.ts';
import type { PrivSpec } from '../../include/priv.ts';
import { encodeScpVector } from '../../include/safecopies.ts';
import { firstDifference, hashWords } from '../../lib/bytes.ts';
import { kwalk } from '../../kernel/memory.ts';
import { safemapRecords } from '../../kernel/system/do_safemap.ts';
import {
  dsCheck,
  dsDeleteLabel,
  dsDeleteMap,
  dsDeleteMem,
  dsDeleteStr,
  dsDeleteU32,
  dsPublishLabel,
  dsPublishMap,
  dsPublishMem,
  dsPublishStr,
  dsPublishU32,
  dsRetrieveLabelName,
  dsRetrieveLabelNum,
  dsRetrieveMap,
  dsRetrieveMem,
  dsRetrieveStr,
  dsRetrieveU32,
  dsSnapshotMap,
  dsSubscribe,
} from '../../libsys/ds.ts';
import { vmMmap, vmMunmap } from '../../libsys/vm.ts';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, VM_PROCSTART, VM_STACKTOP } from '../../include/vm.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { KProc } from '../../kernel/proc.ts';
import { bootTable } from '../boot.ts';
import { drivenActor, drivenVfs, runStepwise } from '../driven.ts';
import type { Action, Driven } from '../driven.ts';
import { GRANT_TEST_PRIV, releaseChild } from '../../user/safetest.ts';
import { createSystem } from '../system.ts';
import type { System } from '../system.ts';
import type { DsEntryInfo } from '../../servers/ds/store.ts';
import type { SystemConfig } from '../config.ts';
import {
  ACTORS,
  AREA_PAGES,
  DS_FOREIGN_LABELS,
  DS_KEY_NAMES,
  DS_LABEL_VALUES,
  DS_MAP_CAPACITY,
  DS_PATTERNS,
  EXEC_IMAGE,
  EXEC_SPAN,
  HEAP_PAGES,
  PAGE,
  WINDOW_BYTES,
  WINDOW_PAGES,
  formatCommand,
} from './commands.ts';
import type { Command, CopySpec, SingleCommand } from './commands.ts';
import { Oracle, VFS_ACTOR, checkOutcome, runs } from './oracle.ts';
import type { GrantRef, HeapLayout, Outcome, Space, Who } from './oracle.ts';

export interface ModelOptions {
  /** System config for the run; the scheduler seed and mode are part of a failure's replay input. */
  config?: Partial<SystemConfig>;
  /** Run sys.sanityCheck() after every kernel entry (true, the default) or only after every command. */
  everyStep?: boolean;
  /**
   * VM's full check every this many checks (the first included), its incremental check in between (default
   * DEFAULT_FULL_EVERY; 1: always the full check, no change tracking).
   */
  fullEvery?: number | undefined;
  /**
   * Called after each command has been compared and checked, before the next: a place to inject faults or
   * inspect (the next comparison then shows what changed behind the oracle's back).
   */
  afterCommand?: (sys: System, actors: readonly Driven[], index: number) => void | Promise<void>;
  /**
   * Hash the state after every command into the observations (true, the default: the differential runs compare
   * them). A campaign, which compares no runs, leaves it off: hashing every byte after every command was about a
   * quarter of a run's time.
   */
  hashes?: boolean;
}

/** A run's full VM check every this many checks, unless told otherwise. */
export const DEFAULT_FULL_EVERY = 64;

/** The checks a run made, by kind. */
export interface CheckCounts {
  /** VM's incremental checks (what changed since the last check). */
  incremental: number;
  /** VM's full checks. */
  full: number;
  /** The kernel's grant and safemap record checks. */
  grant: number;
  /** DS's store checks. */
  ds: number;
}

/** No checks yet. */
export const noChecks = (): CheckCounts => ({ incremental: 0, full: 0, grant: 0, ds: 0 });

export interface Violation {
  /** Index of the command in the sequence (-1: while starting the actors; the sequence length: taking them down). */
  index: number;
  message: string;
}

export interface ModelRun {
  /** Commands executed (a violation stops the run). */
  commands: number;
  /** sys.sanityCheck() calls that passed. */
  checks: number;
  /** Those checks by kind (a check while VM is in the middle of a request skips VM). */
  checksByKind: CheckCounts;
  violation: Violation | null;
  leaks: string[];
  /**
   * Per command: its outcome without grant ids, and (unless ModelOptions.hashes is false) a hash of every window, area
   * and heap after it, for differential runs.
   */
  observations: string[];
  /** The oracle saw a legacy grant id reach a slot revoked and reused since (the schemes may then differ). */
  staleReuse: boolean;
  /** How often each command kind met each outcome: `${kind} ${outcome}` → count (see outcomeClass). */
  coverage: Record<string, number>;
}

/** The class of an outcome the coverage counts: OK (any non-negative result), an errno name, or killed. */
export function outcomeClass(out: Outcome): string {
  return out.result === 'killed' ? 'killed' : out.result >= 0 ? 'OK' : errnoName(out.result);
}

/** A grant some actor created: the real endpoint and id, and the oracle's reference to it. */
interface Made {
  ep: number;
  id: number;
  ref: GrantRef;
  /** The grantee named in the entry (actor, instance); a setgrant may change it. */
  to: Who;
  /** Of VFS's magic grants: the actor whose memory it grants (who_from). */
  over?: number;
}

export const ACTOR_LABELS = Array.from({ length: ACTORS }, (_, i) => `fz${i}`);
/** The reference test services' privileges plus vsafecopy. */
const ACTOR_PRIV: PrivSpec = {
  ...GRANT_TEST_PRIV,
  kernelCalls:
    GRANT_TEST_PRIV.kernelCalls === 'all'
      ? 'all'
      : [...GRANT_TEST_PRIV.kernelCalls, SYS_VSAFECOPY - KERNEL_CALL],
};
const dsKey = (k: number): string => DS_KEY_NAMES[k % DS_KEY_NAMES.length] ?? '';
/** A DS key's index in DS_KEY_NAMES, or the key itself when it is none of them. */
const keyIndex = (key: string): number | string => {
  const i = DS_KEY_NAMES.findIndex((x) => x === key);
  return i < 0 ? key : i;
};
/** The endpoint a LABEL command names (DS_LABEL_VALUES[v]). */
const labelValue = (v: number): number => DS_LABEL_VALUES[v % DS_LABEL_VALUES.length] ?? 0;
/** At most this many oracle states are kept as explanations of what was seen (see Run.candidates). */
const MAX_CANDIDATES = 16;

/** `pages` pages of a process from `base` as a host reads them through its page table (not present: zeros). */
function readPages(sys: System, kp: KProc, base: number, pages: number): Uint8Array {
  const out = new Uint8Array(pages * PAGE);
  for (let i = 0; i < pages; i++) {
    const pa = sys.clock.offClock(() => kwalk(sys.kernel, kp, base + i * PAGE, false));
    if (pa >= 0) sys.mem.read(pa, out, i * PAGE, PAGE);
  }
  return out;
}

/** The window of a process as a host reads it through its page table; a page not present reads as zeros. */
export function readWindow(sys: System, d: Driven): Uint8Array {
  return readPages(sys, d.kp, d.buf, WINDOW_PAGES);
}

/**
 * Where an actor's mmap area starts: 1 MiB above its window, so that the mmaps libsys makes without a hint (the
 * grant table's growth), which take the lowest free address above the window, never land in it.
 */
export const areaBase = (d: Driven): number => d.buf + 256 * PAGE;

/**
 * The actors' heap, from their configuration: a service is a fork of RS (no exec), so it starts with RS's boot
 * image layout (vm.md §9.3): text at VM_PROCSTART, then the heap of the image's data pages (at least one), and
 * nothing between the heap and the stack region of the image's stack pages below VM_STACKTOP.
 */
const RS_IMAGE = bootTable().find((e) => e.role === 'rs');
if (RS_IMAGE === undefined) throw new Error('no RS in the boot table');
/** Where every actor's heap starts (after RS's text). */
export const HEAP_BASE = VM_PROCSTART + RS_IMAGE.textPages * PAGE;
/** Every actor's first break and the most its heap may grow to (the oracle's HeapLayout). */
export const ACTOR_HEAP: HeapLayout = {
  pages: Math.max(1, RS_IMAGE.dataPages),
  limit: (VM_STACKTOP - RS_IMAGE.stackPages * PAGE - HEAP_BASE) / PAGE,
};

/** VM's regions of the process from the area's start upwards, as [first page, end page) relative to it. */
function areaRegions(sys: System, d: Driven): [number, number][] {
  const base = areaBase(d);
  return sys.vm
    .regions(d.ep)
    .filter((r) => r.vaddr >= base)
    .map((r): [number, number] => [(r.vaddr - base) / PAGE, (r.vaddr + r.length - base) / PAGE])
    .sort(([x], [y]) => x - y);
}

/** The end of VM's region at the heap's start, in pages from it (-1: none). */
function heapEnd(sys: System, d: Driven): number {
  const r = sys.vm.regions(d.ep).find((x) => x.vaddr === HEAP_BASE);
  return r === undefined ? -1 : r.length / PAGE;
}

class ModelViolation extends Error {}

/** How many bytes of the area, or with `heap` of the heap, are compared (and commands may touch). */
const spaceLen = (heap: boolean | undefined): number => (heap === true ? HEAP_PAGES : AREA_PAGES) * PAGE;

/** Fits a command's ranges into the window (the generators may draw past its end). */
function clamp(c: Command): Command {
  return c.k === 'pair'
    ? { ...c, first: clampSingle(c.first), second: clampSingle(c.second) }
    : clampSingle(c);
}

function clampSingle(c: SingleCommand): SingleCommand {
  const fit = (pos: number, len: number): number => Math.max(0, Math.min(len, WINDOW_BYTES - pos));
  switch (c.k) {
    case 'write':
      return { ...c, len: Math.max(1, fit(c.pos, c.len)) };
    case 'grant':
    case 'vmagic':
    case 'setgrant':
    case 'map':
    case 'mpublish':
      return { ...c, pages: Math.min(c.pages, WINDOW_PAGES - c.page) };
    case 'copy':
    case 'mempublish':
    case 'memretrieve':
      return { ...c, len: fit(c.pos, c.len) };
    case 'lpublish':
      // OVERWRITE with a value a system label holds could rename that label (spec/ds.md §6.1 step 7).
      return DS_FOREIGN_LABELS.has(labelValue(c.v)) ? { ...c, flags: c.flags & ~DSF_OVERWRITE } : c;
    case 'awrite':
    case 'acopy':
      return { ...c, len: Math.max(c.k === 'awrite' ? 1 : 0, Math.min(c.len, spaceLen(c.heap) - c.pos)) };
    case 'aread':
      return { ...c, pos: Math.min(c.pos, spaceLen(c.heap) - 4) };
    case 'vcopy':
      return { ...c, items: c.items.map((x) => ({ ...x, len: fit(x.pos, x.len) })) };
    default:
      return c;
  }
}

/** The run's state: the system, its actors, the oracle and the grants made so far. */
class Run {
  readonly made: Made[] = [];
  checks = 0;
  readonly checksByKind = noChecks();
  /** A full check is due besides every fullEvery-th: one VM skipped while busy, or the run's last. */
  private fullDue = false;
  /** `${kind} ${outcome}` → how often a command of that kind had that outcome (pairs count each command). */
  readonly coverage: Record<string, number> = {};
  /**
   * The oracle states that explain everything seen so far. Usually one; a pair whose two serial orders leave the
   * same observable state but different hidden state (e.g. a mapping made before or after a revmap) keeps both
   * until a later command tells them apart.
   */
  candidates: Oracle[];
  constructor(
    readonly sys: System,
    readonly actors: Driven[],
    /** VFS, driven by the host: the owner of magic grants the kernel honours. */
    readonly vfs: Driven,
    oracle: Oracle,
    readonly everyStep: boolean,
    readonly fullEvery: number,
  ) {
    this.candidates = [oracle];
    if (fullEvery > 1) sys.vm.trackChanges();
  }

  /** The first candidate: every candidate agrees on what the executor asks (instances, grant references). */
  get oracle(): Oracle {
    const o = this.candidates[0];
    if (o === undefined) throw new Error('no oracle candidate');
    return o;
  }

  actor(a: number): Driven {
    const d = this.actors[a];
    if (d === undefined) throw new Error(`no actor ${a}`);
    return d;
  }

  /** The process that makes a call: actor a, or VFS (VFS_ACTOR). */
  private by(a: number): Driven {
    return a === VFS_ACTOR ? this.vfs : this.actor(a);
  }

  /** A panic recorded by the kernel, then every checker the system has (VM's in full when due). */
  check = (): void => {
    const panic = this.sys.panicked;
    if (panic !== null) throw new ModelViolation(`kernel panic: ${panic.message}`);
    const full = this.fullDue || this.checks % this.fullEvery === 0;
    const vmChecked = this.sys.sanityCheck(full ? 'full' : 'changes');
    this.fullDue = full && !vmChecked;
    this.checks++;
    const k = this.checksByKind;
    if (vmChecked && full) k.full++;
    else if (vmChecked) k.incremental++;
    k.grant++;
    k.ds++;
  };

  /** The full check at the end of a run, whatever the count (the system is idle). */
  checkInFull(): void {
    this.fullDue = true;
    this.check();
  }

  /** Runs the system until idle, checked after every kernel entry or once at the end. */
  async settle(): Promise<void> {
    if (this.everyStep) await runStepwise(this.sys, this.check);
    else {
      await this.sys.run();
      this.check();
    }
  }

  /** A grant by index among those made, or among those of actor a's current instance. */
  grant(g: number, ownedBy?: number): Made | undefined {
    const me = ownedBy === undefined ? null : this.oracle.who(ownedBy);
    const xs =
      me === null ? this.made : this.made.filter((m) => m.ref.actor === me.actor && m.ref.inst === me.inst);
    return xs.length === 0 ? undefined : xs[g % xs.length];
  }

  /** One of VFS's grants: among those over actor a's memory when there are any, else among all of VFS's. */
  vfsGrant(g: number, a?: number): Made | undefined {
    const xs = this.made.filter((m) => m.ref.actor === VFS_ACTOR);
    const over = xs.filter((m) => m.over === a);
    const from = over.length > 0 ? over : xs;
    return from[g % Math.max(1, from.length)];
  }

  /**
   * The grant a use by actor a names: three indices in four pick among the grants addressed to a's current
   * instance (when there are any), so that uses mostly pass verification; the rest among all grants.
   */
  grantFor(g: number, a: number): Made | undefined {
    const me = this.oracle.who(a);
    const mine = this.made.filter((m) => m.to.actor === me.actor && m.to.inst === me.inst);
    return g % 4 === 3 || mine.length === 0 ? this.grant(g) : mine[g % mine.length];
  }

  /** The copy moved to a page its actor holds read-only (the same offset in it, the length cut at the window's end). */
  private ontoReadOnly<C extends CopySpec & { a: number }>(c: C): C {
    const pages = this.oracle.readOnlyPages(c.a);
    const page = pages[c.g % Math.max(1, pages.length)];
    if (page === undefined) return c;
    const pos = page * PAGE + (c.pos % PAGE);
    return { ...c, pos, len: Math.min(c.len, WINDOW_BYTES - pos) };
  }

  /** Starts fn in actor a; once the system has settled, its outcome ('killed' if the actor died first). */
  private call<T>(a: number, fn: Action<T>, outcome: (v: T) => Outcome): () => Outcome | 'killed' {
    const h = this.by(a).start(fn);
    return () => (h.done() ? outcome(h.result()) : 'killed');
  }

  private code(a: number, fn: Action<number>): () => Outcome | 'killed' {
    return this.call(a, fn, (result) => ({ result }));
  }

  /**
   * A grant creation by actor a (or VFS): the real call, and once both sides agree on success, the grant is
   * remembered (`over`: the actor whose memory a magic grant of VFS's names).
   */
  private creation(
    a: number,
    to: number,
    fn: Action<{ id: number; errno: number }>,
    model: (o: Oracle) => { out: Outcome; ref: GrantRef },
    over?: number,
  ): Plan {
    return {
      start: () => this.call(a, fn, (r) => ({ result: r.errno, ...(r.errno === 0 ? { id: r.id } : {}) })),
      model,
      commit: (real, want) => {
        if (real === 'killed' || real.result !== 0 || real.id === undefined || want.ref === undefined) return;
        const made: Made = { ep: this.by(a).ep, id: real.id, ref: want.ref, to: this.oracle.who(to) };
        this.made.push(over === undefined ? made : { ...made, over });
      },
    };
  }

  /**
   * How to run command c on the system and on an oracle, or null when it does not apply (no grant yet); `paired`: as
   * one command of a pair (a check then takes no notification).
   */
  plan(c: SingleCommand, paired = false): Plan | null {
    const d = this.actor(c.a);
    const at = (pos: number): number => d.buf + pos;
    const sp: Space = 'heap' in c && c.heap === true ? 'heap' : 'area';
    const spaceAt = (pos: number): number => (sp === 'heap' ? HEAP_BASE : areaBase(d)) + pos;
    const plain = (start: () => () => Outcome | 'killed', model: (o: Oracle) => Outcome): Plan => ({
      start,
      model: (o) => ({ out: model(o) }),
    });
    switch (c.k) {
      case 'write':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => p.write(at(c.pos), new Uint8Array(c.len).fill(c.byte)),
              () => ({ result: 0 }),
            ),
          (o) => o.userWrite(c.a, c.pos, c.len, c.byte),
        );
      case 'grant': {
        const to = this.actor(c.to).ep;
        return this.creation(
          c.a,
          c.to,
          (p) => p.cpf.grantDirect(to, at(c.page * PAGE), c.pages * PAGE, c.access),
          (o) => o.grantDirect(c.a, c.to, c.page, c.pages, c.access),
        );
      }
      case 'indirect': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        const to = this.actor(c.to).ep;
        return this.creation(
          c.a,
          c.to,
          (p) => p.cpf.grantIndirect(to, g.ep, g.id),
          (o) => o.grantIndirect(c.a, c.to, g.ref),
        );
      }
      case 'magic': {
        const to = this.actor(c.to).ep;
        const from = this.actor(c.from);
        return this.creation(
          c.a,
          c.to,
          (p) => p.cpf.grantMagic(to, from.ep, from.buf + c.page * PAGE, PAGE, c.access),
          (o) => o.grantMagic(c.a, c.to, c.from, c.page, 1, c.access),
        );
      }
      case 'vmagic': {
        const to = this.actor(c.to).ep;
        return this.creation(
          VFS_ACTOR,
          c.to,
          (p) => p.cpf.grantMagic(to, d.ep, at(c.page * PAGE), c.pages * PAGE, c.access),
          (o) => o.grantMagic(VFS_ACTOR, c.to, c.a, c.page, c.pages, c.access),
          c.a,
        );
      }
      case 'revoke':
      case 'revmap':
      case 'vrevoke':
      case 'vrevmap': {
        const vfs = c.k === 'vrevoke' || c.k === 'vrevmap';
        const g = vfs ? this.vfsGrant(c.g, c.a) : this.grant(c.g, c.a);
        if (g === undefined) return null;
        const by = vfs ? VFS_ACTOR : c.a;
        if (c.k === 'revoke' || c.k === 'vrevoke')
          return {
            ...plain(
              () => this.code(by, (p) => p.cpf.revoke(g.id)),
              (o) => o.revoke(g.ref),
            ),
            around: (o, between) => ({ out: o.revoke(g.ref, between) }),
          };
        return plain(
          () => this.code(by, (p) => p.sys.saferevmapGid(g.id)),
          (o) => o.revmap(g.ref),
        );
      }
      case 'setgrant': {
        const g = this.grant(c.g, c.a);
        if (g === undefined) return null;
        const to = this.actor(c.to).ep;
        return {
          // The deprecated pre-allocation API (spec/grants.md §3.4) is part of what the model covers.
          start: () =>
            this.code(c.a, (p) =>
              c.disable
                ? p.cpf.setgrantDisable(g.id)
                : // eslint-disable-next-line @typescript-eslint/no-deprecated
                  p.cpf.setgrantDirect(g.id, to, at(c.page * PAGE), c.pages * PAGE, c.access),
            ),
          model: (o) => ({ out: o.setgrant(g.ref, c.to, c.page, c.pages, c.access, c.disable) }),
          commit: (_real, want) => {
            if (want.out.result === 0 && !c.disable) g.to = this.oracle.who(c.to);
          },
        };
      }
      case 'copy': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        const x = c.ro === true ? this.ontoReadOnly(c) : c;
        return plain(
          () => this.code(c.a, (p) => copyCall(p, g, x, at(x.pos))),
          (o) => o.copy(c.a, g.ref, x),
        );
      }
      case 'vcopy': {
        const items = c.items.map((x) => ({
          x: x.ro === true ? this.ontoReadOnly({ ...x, a: c.a }) : x,
          g: this.grantFor(x.g, c.a),
        }));
        const ready = items.flatMap(({ x, g }) => (g === undefined ? [] : [{ c: x, g }]));
        if (ready.length !== items.length) return null;
        const vec = encodeScpVector(
          ready.map(({ c: x, g }) => ({
            from: x.dir === 'from' ? g.ep : SELF,
            to: x.dir === 'from' ? SELF : g.ep,
            gid: g.id,
            offset: x.gOff,
            addr: at(x.pos),
            bytes: x.len,
          })),
        );
        return plain(
          () =>
            this.code(c.a, async (p) => {
              await p.write(at(WINDOW_BYTES), vec);
              return p.sys.vsafecopy(at(WINDOW_BYTES), ready.length);
            }),
          (o) =>
            o.vcopy(
              c.a,
              ready.map(({ c: x, g }) => ({ ref: g.ref, c: x })),
            ),
        );
      }
      case 'map': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        return plain(
          () =>
            this.code(c.a, (p) =>
              p.sys.safemap(g.ep, g.id, c.gOffPages * PAGE, at(c.page * PAGE), c.pages * PAGE, c.writable),
            ),
          (o) => o.safemap(c.a, g.ref, c.gOffPages, c.page, c.pages, c.writable),
        );
      }
      case 'unmap':
        return plain(
          () => this.code(c.a, (p) => p.sys.safeunmap(at(c.page * PAGE))),
          (o) => o.safeunmap(c.a, c.page),
        );
      case 'publish':
        return plain(
          () =>
            this.code(c.a, (p) =>
              c.str === undefined
                ? dsPublishU32(p, dsKey(c.key), c.value, c.flags)
                : dsPublishStr(p, dsKey(c.key), c.str, c.flags),
            ),
          (o) =>
            c.str === undefined
              ? o.publish(c.a, c.key, 'u32', c.value, c.flags)
              : o.publish(c.a, c.key, 'str', c.str, c.flags),
        );
      case 'retrieve':
        return plain(
          () =>
            this.call<{ result: number; value: number | string }>(
              c.a,
              (p) => (c.str === true ? dsRetrieveStr(p, dsKey(c.key)) : dsRetrieveU32(p, dsKey(c.key))),
              (r) => ({ result: r.result, ...(r.result === 0 ? { value: r.value } : {}) }),
            ),
          (o) => o.retrieve(c.a, c.key, c.str === true ? 'str' : 'u32'),
        );
      case 'delete':
        return plain(
          () =>
            this.code(c.a, (p) =>
              c.str === true ? dsDeleteStr(p, dsKey(c.key)) : dsDeleteU32(p, dsKey(c.key)),
            ),
          (o) => o.delete(c.a, c.key, c.str === true ? 'str' : 'u32'),
        );
      case 'subscribe': {
        const pattern = DS_PATTERNS[c.pattern % DS_PATTERNS.length] ?? '';
        return plain(
          () => this.code(c.a, (p) => dsSubscribe(p, pattern, c.flags)),
          (o) => o.subscribe(c.a, pattern, c.flags),
        );
      }
      case 'check': {
        const notify = c.notify === true && !paired;
        return plain(
          () =>
            this.call(
              c.a,
              async (p) => {
                // DS's notification, if one is pending: taken, so that the next one shows (it never blocks here).
                const notified = notify && d.kp.notifyFrom.includes(DS_PROC_NR);
                if (notified) await p.receive(DS_PROC_NR);
                return { notified, r: await dsCheck(p) };
              },
              ({ notified, r }) =>
                checkOutcome(
                  r.result,
                  notify ? notified : null,
                  r.result === 0
                    ? `${r.key} ${r.type} ${this.actors.findIndex((x) => x.ep === r.owner)}`
                    : '',
                ),
            ),
          (o) => o.check(c.a, notify),
        );
      }
      case 'mpublish':
        return plain(
          () =>
            this.code(c.a, (p) => dsPublishMap(p, dsKey(c.key), at(c.page * PAGE), c.pages * PAGE, c.flags)),
          (o) => o.publishMap(c.a, c.key, c.page, c.pages, c.flags),
        );
      case 'msnapshot':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => dsSnapshotMap(p, dsKey(c.key)),
              (r) => (r.result === 0 ? { result: 0, value: r.nr } : { result: r.result }),
            ),
          (o) => o.snapshotMap(c.a, c.key),
        );
      case 'mretrieve': {
        if (c.page !== undefined) {
          const { page } = c;
          const pages = Math.min(DS_MAP_CAPACITY / PAGE, WINDOW_PAGES - page);
          return plain(
            () =>
              this.call(
                c.a,
                (p) => dsRetrieveMap(p, dsKey(c.key), at(page * PAGE), pages * PAGE, 0, DSMF_MAP_MAPPED),
                (r) => (r.result === 0 ? { result: 0, value: r.len / PAGE } : { result: r.result }),
              ),
            (o) => o.retrieveMapped(c.a, c.key, page, pages),
          );
        }
        // Into the scratch pages after the window, which only vsafecopy's vectors use besides.
        const buf = at(WINDOW_BYTES);
        return plain(
          () =>
            this.call(
              c.a,
              async (p): Promise<Outcome> => {
                const mode = c.n === undefined ? DSMF_COPY_MAPPED : DSMF_COPY_SNAPSHOT;
                const r = await dsRetrieveMap(p, dsKey(c.key), buf, DS_MAP_CAPACITY, c.n ?? 0, mode);
                return r.result === 0
                  ? { result: 0, value: runs(await p.read(buf, r.len)) }
                  : { result: r.result };
              },
              (r) => r,
            ),
          (o) => o.retrieveMap(c.a, c.key, c.n ?? null, DS_MAP_CAPACITY),
        );
      }
      case 'mdelete':
        return plain(
          () => this.code(c.a, (p) => dsDeleteMap(p, dsKey(c.key))),
          (o) => o.deleteMap(c.a, c.key),
        );
      case 'mempublish':
        return plain(
          () => this.code(c.a, (p) => dsPublishMem(p, dsKey(c.key), at(c.pos), c.len, c.flags)),
          (o) => o.publishMem(c.a, c.key, c.pos, c.len, c.flags),
        );
      case 'memretrieve':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => dsRetrieveMem(p, dsKey(c.key), at(c.pos), c.len),
              (r) => (r.result === 0 ? { result: 0, value: r.len } : { result: r.result }),
            ),
          (o) => o.retrieveMem(c.a, c.key, c.pos, c.len),
        );
      case 'memdelete':
        return plain(
          () => this.code(c.a, (p) => dsDeleteMem(p, dsKey(c.key))),
          (o) => o.delete(c.a, c.key, 'mem'),
        );
      case 'lpublish':
        return plain(
          () => this.code(c.a, (p) => dsPublishLabel(p, dsKey(c.key), labelValue(c.v), c.flags)),
          (o) => o.publishLabel(c.a, c.key, labelValue(c.v), c.flags),
        );
      case 'lretrieve':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => dsRetrieveLabelNum(p, dsKey(c.key)),
              (r) => (r.result === 0 ? { result: 0, value: r.endpoint } : { result: r.result }),
            ),
          (o) => o.retrieve(c.a, c.key, 'label'),
        );
      case 'lname':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => dsRetrieveLabelName(p, labelValue(c.v)),
              (r) => (r.result === 0 ? { result: 0, value: r.name } : { result: r.result }),
            ),
          (o) => o.labelName(c.a, labelValue(c.v)),
        );
      case 'ldelete':
        return plain(
          () => this.code(c.a, (p) => dsDeleteLabel(p, dsKey(c.key))),
          (o) => o.delete(c.a, c.key, 'label'),
        );
      case 'mmap':
        return plain(
          () =>
            this.call(
              c.a,
              (p) =>
                vmMmap(
                  p,
                  areaBase(d) + c.page * PAGE,
                  c.pages * PAGE,
                  MAP_ANON | MAP_PRIVATE | (c.fixed ? MAP_FIXED : 0),
                ),
              (r) => (r < 0 ? { result: r } : { result: 0, value: (r - areaBase(d)) / PAGE }),
            ),
          (o) => o.mmap(c.a, c.page, c.pages, c.fixed),
        );
      case 'munmap':
        return plain(
          () => this.code(c.a, (p) => vmMunmap(p, areaBase(d) + c.page * PAGE, c.pages * PAGE)),
          (o) => o.munmap(c.a, c.page, c.pages),
        );
      case 'awrite':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => p.write(spaceAt(c.pos), new Uint8Array(c.len).fill(c.byte)),
              () => ({ result: 0 }),
            ),
          (o) => o.areaUserWrite(c.a, c.pos, c.len, c.byte, sp),
        );
      case 'aread':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => p.read(spaceAt(c.pos), 4),
              (b) => ({ result: 0, value: new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) }),
            ),
          (o) => o.areaUserRead(c.a, c.pos, sp),
        );
      case 'acopy': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        return plain(
          () => this.code(c.a, (p) => copyCall(p, g, c, spaceAt(c.pos))),
          (o) => o.areaCopy(c.a, g.ref, c, sp),
        );
      }
      case 'brk':
        return plain(
          () => this.code(c.a, (p) => p.brk(HEAP_BASE + c.at)),
          (o) => o.brk(c.a, c.at),
        );
      case 'fork':
        return plain(
          () =>
            this.call(
              c.a,
              (p) => forkReader(p, at(c.pos), c.byte, `${d.label}-child`, c),
              (r: Outcome) => r,
            ),
          (o) =>
            c.exec === true
              ? o.forkExec(c.pos)
              : c.kill !== undefined
                ? o.forkKill(c.kill)
                : o.fork(c.a, c.pos),
        );
      case 'crash':
      case 'vcrash': {
        const who = c.k === 'vcrash' ? (this.vfsGrant(c.g)?.over ?? c.a) : c.a;
        const x = this.actor(who);
        return plain(
          () => {
            if (!this.sys.kill(x.ep)) throw new ModelViolation(`${x.label} is not live`);
            return () => ({ result: x.alive() ? 0 : -3 });
          },
          (o) => o.crash(who),
        );
      }
    }
  }

  /**
   * One command (or pair) on the system and on every candidate oracle; the candidates that explain the outcome
   * and the state survive. Throws a ModelViolation when none does. What it observed (null: n/a) and the state it
   * compared (null: none read), which stays the system's until the next command.
   */
  async step(c: Command): Promise<{ seen: string | null; state: RealState | null }> {
    const singles = c.k === 'pair' ? [c.first, c.second] : [c];
    const plans = singles.map((x) => this.plan(x, c.k === 'pair'));
    if (c.k === 'pair' && c.first.a === c.second.a) throw new Error('a pair needs two actors');
    const live = plans.filter((p): p is Plan => p !== null);
    const kinds = singles.filter((_, i) => plans[i] !== null).map((x) => x.k);
    if (live.length === 0) return { seen: null, state: null };
    const started = live.map((p) => p.start());
    await this.settle();
    const real = started.map((r) => r());
    const state = realState(this);
    const orders = pairOrders(live);
    const survivors: { o: Oracle; wants: ModelOutcome[] }[] = [];
    let first: ModelViolation | null = null;
    for (const cand of this.candidates) {
      for (const order of orders) {
        const o = orders.length === 1 ? cand : cand.clone();
        const wants = order(o);
        try {
          agree(real, wants);
          matchState(state, o);
          survivors.push({ o, wants });
        } catch (e) {
          if (!(e instanceof ModelViolation)) throw e;
          first ??= e;
        }
      }
    }
    const chosen = survivors[0];
    if (chosen === undefined) {
      const why = first?.message ?? 'no candidate';
      throw new ModelViolation(live.length === 1 ? why : `no order of the pair explains it: ${why}`);
    }
    this.candidates = distinct(survivors.map((x) => x.o));
    chosen.wants.forEach((w, i) => {
      const key = `${kinds[i] ?? '?'} ${outcomeClass(w.out)}`;
      this.coverage[key] = (this.coverage[key] ?? 0) + 1;
    });
    if (c.k === 'pair') this.coverage['pair OK'] = (this.coverage['pair OK'] ?? 0) + 1;
    return { seen: commit(live, real, chosen.wants).join(' | '), state };
  }
}

/**
 * The ways a command, or the two commands of a pair, can run on an oracle, each giving the outcomes in the
 * order of `live`. A single command has one; a pair its two serial orders, and a third when one command has two
 * steps the other can run between (`Plan.around`).
 */
function pairOrders(live: readonly Plan[]): ((o: Oracle) => ModelOutcome[])[] {
  const [a, b] = live;
  if (a === undefined) return [];
  if (b === undefined) return [(o) => [a.model(o)]];
  const serial = (x: Plan, y: Plan, xFirst: boolean) => (o: Oracle) => {
    const wx = x.model(o);
    const wy = y.model(o);
    return xFirst ? [wx, wy] : [wy, wx];
  };
  const orders = [serial(a, b, true), serial(b, a, false)];
  const inside = (x: Plan, y: Plan, xFirst: boolean) => (o: Oracle) => {
    let wy: ModelOutcome | undefined;
    const wx = x.around?.(o, () => (wy = y.model(o))) ?? x.model(o);
    wy ??= y.model(o);
    return xFirst ? [wx, wy] : [wy, wx];
  };
  if (a.around !== undefined) orders.push(inside(a, b, true));
  if (b.around !== undefined) orders.push(inside(b, a, false));
  return orders;
}

/**
 * The candidates kept after a command, without duplicates (same grant tables, records, DS, read-only pages and
 * window sharing; the window bytes are equal already), at most MAX_CANDIDATES.
 */
function distinct(oracles: Oracle[]): Oracle[] {
  if (oracles.length === 1) return oracles; // the usual case: nothing to tell apart
  const seen = new Set<string>();
  return oracles
    .filter((o) => {
      const f = o.fingerprint();
      if (seen.has(f)) return false;
      seen.add(f);
      return true;
    })
    .slice(0, MAX_CANDIDATES);
}

/** Throws a ModelViolation unless every real outcome is the oracle's. */
function agree(real: (Outcome | 'killed')[], wants: ModelOutcome[]): void {
  wants.forEach((w, i) => {
    const r = real[i] ?? 'killed';
    if (render(r) !== render(w.out))
      throw new ModelViolation(`returned ${render(r)}, the oracle says ${render(w.out)}`);
  });
}

/** Commits agreed outcomes (the executor's bookkeeping) and returns what each observed (without grant ids). */
function commit(plans: Plan[], real: (Outcome | 'killed')[], wants: ModelOutcome[]): string[] {
  plans.forEach((p, i) => {
    const w = wants[i];
    if (w !== undefined) p.commit?.(real[i] ?? 'killed', w);
  });
  return wants.map((w) => observed(w.out));
}

/** The oracle's side of a command: its outcome, and for a new grant the oracle's reference. */
interface ModelOutcome {
  out: Outcome;
  ref?: GrantRef;
}

/** How a command runs on the system (start, then read once settled) and on an oracle. */
interface Plan {
  start: () => () => Outcome | 'killed';
  model: (o: Oracle) => ModelOutcome;
  /**
   * For a command made of two steps that another process may run between (cpf_revoke: the kernel's revmap, then
   * the write that frees the slot): the command with `between` run in the gap. A pair then has a third order.
   */
  around?: (o: Oracle, between: () => void) => ModelOutcome;
  /** Once the outcome is agreed: bookkeeping of the executor (grants made, a grant's new grantee). */
  commit?: (real: Outcome | 'killed', want: ModelOutcome) => void;
}

/**
 * fork: the child reads the byte at addr, writes `byte` there and exits with what it read; the parent releases it
 * (a system process's child starts held), waits, and returns its status (or the signal that ended it). With `exec`
 * the child execs EXEC_IMAGE instead of exiting, and the new image exits with its byte at `pos` mod EXEC_SPAN
 * (a failed exec: 1000 + the errno). With `kill` the child blocks in a sendrec to the parent, which receives it,
 * kills the child, waits, and kills it again: the status is `signal <n>, again <code>`.
 */
async function forkReader(
  p: Proc,
  addr: number,
  byte: number,
  name: string,
  o: { pos: number; exec?: boolean; kill?: number } = { pos: 0 },
): Promise<Outcome> {
  const parent = p.endpoint;
  const child = await p.fork(async (ch) => {
    const b = await ch.readU8(addr);
    await ch.writeU8(addr, byte);
    if (o.exec === true) {
      const e = await ch.exec(EXEC_IMAGE, async (q) =>
        q.exit(await q.readU8(VM_PROCSTART + (o.pos % EXEC_SPAN))),
      );
      await ch.exit(1000 - e);
    }
    if (o.kill !== undefined) await ch.exit(1000 + (await ch.sendrec(parent, { type: 0 })).type);
    await ch.exit(b);
  }, name);
  if (child < 0) return { result: child };
  await releaseChild(p, child);
  let again = '';
  if (o.kill !== undefined) {
    await p.receive(child);
    const k = await p.kill(child, o.kill);
    if (k !== 0) return { result: k };
  }
  const w = await p.wait();
  if (o.kill !== undefined) again = `, again ${await p.kill(child, o.kill)}`;
  return {
    result: w.endpoint === child ? 0 : w.endpoint,
    value: w.signal === 0 ? w.code : `signal ${w.signal}${again}`,
  };
}

function copyCall(p: Proc, g: Made, c: CopySpec, addr: number): Promise<number> {
  return c.dir === 'from'
    ? p.sys.safecopyFrom(g.ep, g.id, c.gOff, addr, c.len)
    : p.sys.safecopyTo(g.ep, g.id, c.gOff, addr, c.len);
}

/** An outcome as the differential runs compare it: grant ids differ between id schemes by design, so they are left out. */
function observed(x: Outcome): string {
  return JSON.stringify({ result: x.result, value: x.value });
}

const render = (x: Outcome | 'killed'): string => JSON.stringify(x === 'killed' ? { result: 'killed' } : x);

/** What the system shows now: every actor's window, area and heap, the actors' DS entries (by key index). */
interface RealState {
  windows: Uint8Array[];
  /** Per actor: its mmap area's bytes and VM's regions there, its heap's bytes and end (pages from its start). */
  areas: { bytes: Uint8Array; regions: [number, number][]; heap: Uint8Array; heapEnd: number }[];
  ds: string;
  /** The kernel's safemap records. */
  records: number;
}

/**
 * A DS entry's value as the oracle shows it: of a MAP entry its length, last snapshot and DS's window bytes; of a
 * MEM entry its length and DS's copy of the bytes (in DS's address space, page-aligned).
 */
function dsValue(sys: System, v: DsEntryInfo['value']): unknown {
  if (typeof v !== 'object') return v;
  const ds = sys.kernel.liveProc(DS_PROC_NR);
  if (ds === null) throw new ModelViolation('DS is not live');
  if (!('window' in v))
    return {
      length: v.length,
      bytes: runs(readPages(sys, ds, v.addr, Math.ceil(v.length / PAGE)).subarray(0, v.length)),
    };
  return { length: v.length, sindex: v.sindex, bytes: runs(readPages(sys, ds, v.window, v.length / PAGE)) };
}

function realState(run: Run): RealState {
  const windows = Array.from({ length: ACTORS }, (_, a) => readWindow(run.sys, run.actor(a)));
  const entries = run.sys.ds
    .entries()
    .filter((e) => e.key.startsWith('fz.k'))
    .map(
      (e) =>
        [
          // A key the actors never use shows as its name (the oracle cannot hold it): a difference all the same.
          `${keyIndex(e.key)}:${e.type.toLowerCase()}`,
          { owner: ACTOR_LABELS.indexOf(e.owner), value: dsValue(run.sys, e.value) },
        ] as const,
    );
  const ds = dsText(new Map(entries));
  const areas = run.actors.map((d) => ({
    bytes: readPages(run.sys, d.kp, areaBase(d), AREA_PAGES),
    regions: areaRegions(run.sys, d),
    heap: readPages(run.sys, d.kp, HEAP_BASE, HEAP_PAGES),
    heapEnd: heapEnd(run.sys, d),
  }));
  return { windows, areas, ds, records: safemapRecords(run.sys.kernel).length };
}

/** A hash of every actor's window, area and heap bytes (what a differential run compares besides the outcomes). */
const stateHash = ({ windows, areas }: RealState): number =>
  [...windows, ...areas.flatMap((x) => [x.bytes, x.heap])].reduce((h, w) => hashWords(w, h), 0x811c9dc5);

const dsText = (m: Map<string, { owner: number; value: unknown }>): string =>
  JSON.stringify([...m].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

/** Throws a ModelViolation on the first difference between the system's windows or DS entries and the oracle's. */
function matchState(real: RealState, oracle: Oracle): void {
  real.windows.forEach((w, a) => {
    samePages(
      w,
      oracle,
      a,
      'window',
      (at) => `${ACTOR_LABELS[a] ?? a}: window byte ${at} (page ${Math.floor(at / PAGE)})`,
    );
  });
  real.areas.forEach(({ bytes, regions, heap, heapEnd: end }, a) => {
    const who = ACTOR_LABELS[a] ?? a;
    if (end !== oracle.heapEnd(a))
      throw new ModelViolation(`${who}: the heap ends at page ${end}, the oracle says ${oracle.heapEnd(a)}`);
    samePages(heap, oracle, a, 'heap', (at) => `${who}: heap byte ${at}`);
    const wantRegions = JSON.stringify(oracle.areaRegions(a));
    if (JSON.stringify(regions) !== wantRegions)
      throw new ModelViolation(
        `${who}: area regions ${JSON.stringify(regions)}, the oracle says ${wantRegions}`,
      );
    samePages(bytes, oracle, a, 'area', (at) => `${who}: area byte ${at}`);
  });
  const want = dsText(oracle.dsEntries());
  if (real.ds !== want) throw new ModelViolation(`DS entries ${real.ds}, the oracle says ${want}`);
  if (real.records !== oracle.recordCount())
    throw new ModelViolation(`${real.records} safemap records, the oracle says ${oracle.recordCount()}`);
}

const ZERO_PAGE = new Uint8Array(PAGE);

/**
 * Throws a ModelViolation at the first byte where `real`, pages of actor a's window, area or heap, differs from the
 * oracle's (`what` names the byte). Page by page against the oracle's own pages: no copy of them.
 */
function samePages(
  real: Uint8Array,
  oracle: Oracle,
  a: number,
  sp: Space | 'window',
  what: (at: number) => string,
): void {
  for (let p = 0; p * PAGE < real.length; p++) {
    const want = oracle.page(a, sp, p) ?? ZERO_PAGE;
    const at = firstDifference(real.subarray(p * PAGE, (p + 1) * PAGE), want);
    if (at >= 0)
      throw new ModelViolation(
        `${what(p * PAGE + at)} is ${real[p * PAGE + at] ?? '?'}, the oracle says ${want[at] ?? '?'}`,
      );
  }
}

/** RS_DOWN of every actor, then the leak checks against the counts taken before the actors started. */
async function takeDown(run: Run, base: { free: number; slab: string }): Promise<string[]> {
  const { sys } = run;
  for (const label of ACTOR_LABELS) sys.stopService(label);
  await run.settle();
  run.checkInFull();
  run.oracle.downAll();
  const leaks: string[] = [];
  const live = ACTOR_LABELS.filter((l) => sys.proc(l) !== null);
  if (live.length > 0) leaks.push(`actors still live after RS_DOWN: ${live.join(', ')}`);
  const free = sys.vm.freePages();
  if (free !== base.free)
    leaks.push(`VM free frames ${free}, ${base.free} at boot (${base.free - free} not returned)`);
  const slab = slabLive(sys);
  if (slab !== base.slab) leaks.push(`slab objects (${slab}), (${base.slab}) at the start`);
  const recs = safemapRecords(sys.kernel).length;
  if (recs > 0) leaks.push(`${recs} safemap records left`);
  const ds = sys.ds.entries().filter((e) => ACTOR_LABELS.includes(e.owner) || ACTOR_LABELS.includes(e.key));
  if (ds.length > 0) leaks.push(`DS entries of the actors left: ${ds.map((e) => e.key).join(', ')}`);
  return leaks;
}

/**
 * Live slab objects per class, e.g. `region 24, physRegion 17, …`; the free list's own tree nodes (one per free
 * range, so they follow fragmentation, not use) are left out of the avlNode count.
 */
function slabLive(sys: System): string {
  const ranges = sys.vm.freeRanges().length;
  return Object.entries(sys.vm.slabStats().byClass)
    .map(([k, c]) => `${k} ${k === 'avlNode' ? c.live - ranges : c.live}`)
    .join(', ');
}

/** Boots a system with ACTORS driven services and runs `commands` against it and the oracle. */
export async function runModel(commands: readonly Command[], o: ModelOptions = {}): Promise<ModelRun> {
  const config: Partial<SystemConfig> = { sanity: 'top', trace: null, ...o.config };
  const fullEvery = o.fullEvery ?? DEFAULT_FULL_EVERY;
  const sys = await createSystem(config);
  // The warm-up below is the same in every run: VM checks it as it checks the commands (incrementally, with
  // fullEvery > 1), and in full once at its end. Checked in full at every request, it was a fifth of a short run.
  if (fullEvery > 1) sys.vm.trackChanges();
  const oracle = new Oracle(ACTORS, sys.config.grantIds, ACTOR_HEAP, sys.config.dsLabelPolicy);
  const observations: string[] = [];
  let run: Run | null = null;
  let index = -1;
  const result = (violation: Violation | null, leaks: string[]): ModelRun => ({
    commands: Math.max(0, index),
    checks: run?.checks ?? 0,
    checksByKind: run?.checksByKind ?? noChecks(),
    violation,
    leaks,
    observations,
    staleReuse: (run?.candidates ?? [oracle]).some((x) => x.staleReuse),
    coverage: run?.coverage ?? {},
  });
  try {
    const start = async (): Promise<Driven[]> => {
      const out: Driven[] = [];
      for (const label of ACTOR_LABELS)
        out.push(
          await drivenActor(sys, label, {
            priv: ACTOR_PRIV,
            pages: WINDOW_PAGES + DS_MAP_CAPACITY / PAGE,
            maxRestarts: 1_000_000,
          }),
        );
      return out;
    };
    // A first start and stop of the actors, with one fork, lets RS, DS and VM reach their steady size (RS's stack,
    // DS's scratch page, page-table frames, the page directory of the slot the first fork's child takes — VM keeps
    // a slot's directory for its next occupant, vm.md §11 item 30); what the run leaves beyond the counts taken
    // after it is a leak. The actor also shrinks its heap a page at a time: a cut splits the heap's block for every
    // sharer (vm.md §8.3), RS included, so RS's heap ends up in single-page blocks, as a run's brks would leave it.
    // And it publishes, maps (MAP_MAPPED) and deletes a MAP entry, so that DS's grant table, made on its first
    // grant, exists.
    const first = await start();
    await first[0]?.do(async (p, buf) => {
      await forkReader(p, buf, 1, 'warm-up');
      for (let n = ACTOR_HEAP.pages - 1; n >= 1; n--) await p.brk(HEAP_BASE + n * PAGE);
      await dsPublishMap(p, 'fz.warm-up', buf, PAGE);
      await dsRetrieveMap(p, 'fz.warm-up', buf + PAGE, PAGE, 0, DSMF_MAP_MAPPED);
      await dsDeleteMap(p, 'fz.warm-up');
    });
    for (const label of ACTOR_LABELS) sys.stopService(label);
    await sys.run();
    sys.sanityCheck();
    const base = { free: sys.vm.freePages(), slab: slabLive(sys) };
    const actors = await start();
    oracle.dsReserve(sys.ds.entries().map((e) => e.slot));
    run = new Run(sys, actors, drivenVfs(sys), oracle, o.everyStep ?? true, fullEvery);
    for (index = 0; index < commands.length; index++) {
      const raw = commands[index];
      if (raw === undefined) break;
      const c = clamp(raw);
      const { seen, state } = await run.step(c);
      const hash = o.hashes === false ? '' : ` ${stateHash(state ?? realState(run)).toString(16)}`;
      observations.push(`${seen ?? 'n/a'}${hash}`);
      await o.afterCommand?.(sys, actors, index);
    }
    return result(null, await takeDown(run, base));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = commands[index];
    const where = index < 0 ? 'starting the actors: ' : at === undefined ? '' : `${formatCommand(at)}: `;
    return result({ index, message: `${where}${message}` }, []);
  }
}
