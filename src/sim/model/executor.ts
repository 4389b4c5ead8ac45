// Runs a command sequence on a real system and on the naive oracle side by side (model-based testing). After
// every command: the return codes (and grant ids, retrieved values), every actor's window bytes and the actors' DS
// entries must agree, and sys.sanityCheck() must hold (after every kernel entry with `everyStep`). At the end
// every actor is taken down (RS_DOWN) and nothing may leak: VM frames and slab objects back to their boot-time
// counts, no safemap record, no DS entry of an actor. Entry points: runModel, ModelOptions, ModelRun, Violation.
import { KERNEL_CALL, SYS_VSAFECOPY } from '../../include/com.ts';
import { SELF } from '../../include/endpoint.ts';
import type { PrivSpec } from '../../include/priv.ts';
import { encodeScpVector } from '../../include/safecopies.ts';
import { kwalk } from '../../kernel/memory.ts';
import { safemapRecords } from '../../kernel/system/do_safemap.ts';
import { dsDeleteU32, dsPublishU32, dsRetrieveU32 } from '../../libsys/ds.ts';
import type { Proc } from '../../libsys/proc.ts';
import { drivenActor, runStepwise } from '../driven.ts';
import type { Action, Driven } from '../driven.ts';
import { GRANT_TEST_PRIV } from '../../user/safetest.ts';
import { createSystem } from '../system.ts';
import type { System } from '../system.ts';
import type { SystemConfig } from '../config.ts';
import { ACTORS, PAGE, WINDOW_BYTES, WINDOW_PAGES, formatCommand } from './commands.ts';
import type { Command, CopySpec } from './commands.ts';
import { Oracle } from './oracle.ts';
import type { GrantRef, Outcome, Who } from './oracle.ts';

export interface ModelOptions {
  /** System config for the run; the scheduler seed and mode are part of a failure's replay input. */
  config?: Partial<SystemConfig>;
  /** Run sys.sanityCheck() after every kernel entry (true, the default) or only after every command. */
  everyStep?: boolean;
  /**
   * Called after each command has been compared and checked, before the next: a place to inject faults or
   * inspect (the next comparison then shows what changed behind the oracle's back).
   */
  afterCommand?: (sys: System, actors: readonly Driven[], index: number) => void | Promise<void>;
}

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
  violation: Violation | null;
  leaks: string[];
  /** Per command: its outcome without grant ids, and a hash of every window after it (for differential runs). */
  observations: string[];
  /** The oracle saw a legacy grant id reach a slot revoked and reused since (the schemes may then differ). */
  staleReuse: boolean;
}

/** A grant some actor created: the real endpoint and id, and the oracle's reference to it. */
interface Made {
  ep: number;
  id: number;
  ref: GrantRef;
  /** The grantee named in the entry (actor, instance); a setgrant may change it. */
  to: Who;
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
const dsKey = (k: number): string => `fz.k${k}`;

/** The window of a process as a host reads it through its page table; a page not present reads as zeros. */
export function readWindow(sys: System, d: Driven): Uint8Array {
  const out = new Uint8Array(WINDOW_BYTES);
  for (let i = 0; i < WINDOW_PAGES; i++) {
    const pa = kwalk(sys.kernel, d.kp, d.buf + i * PAGE, false);
    if (pa >= 0) sys.mem.read(pa, out, i * PAGE, PAGE);
  }
  return out;
}

function hashBytes(bytes: Uint8Array, h: number): number {
  let x = h >>> 0;
  for (const b of bytes) x = Math.imul(x ^ b, 0x01000193) >>> 0;
  return x;
}

class ModelViolation extends Error {}

function clamp(c: Command): Command {
  const fit = (pos: number, len: number): number => Math.max(0, Math.min(len, WINDOW_BYTES - pos));
  switch (c.k) {
    case 'write':
      return { ...c, len: Math.max(1, fit(c.pos, c.len)) };
    case 'grant':
    case 'setgrant':
    case 'map':
      return { ...c, pages: Math.min(c.pages, WINDOW_PAGES - c.page) };
    case 'copy':
      return { ...c, len: fit(c.pos, c.len) };
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
  constructor(
    readonly sys: System,
    readonly actors: Driven[],
    readonly oracle: Oracle,
    readonly everyStep: boolean,
  ) {}

  actor(a: number): Driven {
    const d = this.actors[a];
    if (d === undefined) throw new Error(`no actor ${a}`);
    return d;
  }

  /** A panic recorded by the kernel, then every checker the system has. */
  check = (): void => {
    const panic = this.sys.panicked;
    if (panic !== null) throw new ModelViolation(`kernel panic: ${panic.message}`);
    this.sys.sanityCheck();
    this.checks++;
  };

  /** Runs the system until idle, checked after every kernel entry or once at the end. */
  async settle(): Promise<void> {
    if (this.everyStep) await runStepwise(this.sys, this.check);
    else {
      await this.sys.run();
      this.check();
    }
  }

  /** Runs `fn` in actor a to idle; its value, or 'killed' if the actor died before finishing. */
  async exec<T>(a: number, fn: Action<T>): Promise<T | 'killed'> {
    const h = this.actor(a).start(fn);
    await this.settle();
    return h.done() ? h.result() : 'killed';
  }

  /** A grant by index among those made, or among those of actor a's current instance. */
  grant(g: number, ownedBy?: number): Made | undefined {
    const me = ownedBy === undefined ? null : this.oracle.who(ownedBy);
    const xs =
      me === null ? this.made : this.made.filter((m) => m.ref.actor === me.actor && m.ref.inst === me.inst);
    return xs.length === 0 ? undefined : xs[g % xs.length];
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

  private async created(
    a: number,
    to: number,
    real: Promise<{ id: number; errno: number } | 'killed'>,
    o: { out: Outcome; ref: GrantRef },
  ): Promise<[Outcome | 'killed', Outcome]> {
    const r = await real;
    if (r === 'killed') return ['killed', o.out];
    if (r.errno === 0)
      this.made.push({ ep: this.actor(a).ep, id: r.id, ref: o.ref, to: this.oracle.who(to) });
    return [{ result: r.errno, ...(r.errno === 0 ? { id: r.id } : {}) }, o.out];
  }

  /** One command on both sides: [real outcome, oracle outcome], or null when it does not apply (no grant yet). */
  async step(c: Command): Promise<[Outcome | 'killed', Outcome] | null> {
    const o = this.oracle;
    const d = this.actor(c.a);
    const at = (pos: number): number => d.buf + pos;
    const code = async (fn: Action<number>): Promise<Outcome | 'killed'> => {
      const r = await this.exec(c.a, fn);
      return r === 'killed' ? r : { result: r };
    };
    switch (c.k) {
      case 'write': {
        const r = await this.exec(c.a, (p) => p.write(at(c.pos), new Uint8Array(c.len).fill(c.byte)));
        return [
          r === 'killed' ? { result: 'killed' } : { result: 0 },
          o.userWrite(c.a, c.pos, c.len, c.byte),
        ];
      }
      case 'grant': {
        const to = this.actor(c.to).ep;
        const made = this.exec(c.a, (p) =>
          p.cpf.grantDirect(to, at(c.page * PAGE), c.pages * PAGE, c.access),
        );
        return await this.created(c.a, c.to, made, o.grantDirect(c.a, c.to, c.page, c.pages, c.access));
      }
      case 'indirect': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        const to = this.actor(c.to).ep;
        const made = this.exec(c.a, (p) => p.cpf.grantIndirect(to, g.ep, g.id));
        return await this.created(c.a, c.to, made, o.grantIndirect(c.a, c.to, g.ref));
      }
      case 'magic': {
        const to = this.actor(c.to).ep;
        const from = this.actor(c.from);
        const made = this.exec(c.a, (p) =>
          p.cpf.grantMagic(to, from.ep, from.buf + c.page * PAGE, PAGE, c.access),
        );
        return await this.created(c.a, c.to, made, o.grantMagic(c.a, c.to, c.page, c.access));
      }
      case 'revoke':
      case 'revmap': {
        const g = this.grant(c.g, c.a);
        if (g === undefined) return null;
        if (c.k === 'revoke') return [await code((p) => p.cpf.revoke(g.id)), o.revoke(g.ref)];
        return [await code((p) => p.sys.saferevmapGid(g.id)), o.revmap(g.ref)];
      }
      case 'setgrant': {
        const g = this.grant(c.g, c.a);
        if (g === undefined) return null;
        const to = this.actor(c.to).ep;
        // The deprecated pre-allocation API (spec/grants.md §3.4) is part of what the model covers.
        const r = await code((p) =>
          c.disable
            ? p.cpf.setgrantDisable(g.id)
            : // eslint-disable-next-line @typescript-eslint/no-deprecated
              p.cpf.setgrantDirect(g.id, to, at(c.page * PAGE), c.pages * PAGE, c.access),
        );
        const want = o.setgrant(g.ref, c.to, c.page, c.pages, c.access, c.disable);
        if (want.result === 0 && !c.disable) g.to = o.who(c.to);
        return [r, want];
      }
      case 'copy': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        return [await code((p) => copyCall(p, g, c, at(c.pos))), o.copy(c.a, g.ref, c)];
      }
      case 'vcopy': {
        const items = c.items.map((x) => ({ x, g: this.grantFor(x.g, c.a) }));
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
        const r = await code(async (p) => {
          await p.write(at(WINDOW_BYTES), vec);
          return p.sys.vsafecopy(at(WINDOW_BYTES), ready.length);
        });
        return [
          r,
          o.vcopy(
            c.a,
            ready.map(({ c: x, g }) => ({ ref: g.ref, c: x })),
          ),
        ];
      }
      case 'map': {
        const g = this.grantFor(c.g, c.a);
        if (g === undefined) return null;
        const r = await code((p) =>
          p.sys.safemap(g.ep, g.id, c.gOffPages * PAGE, at(c.page * PAGE), c.pages * PAGE, c.writable),
        );
        return [r, o.safemap(c.a, g.ref, c.gOffPages, c.page, c.pages, c.writable)];
      }
      case 'unmap':
        return [await code((p) => p.sys.safeunmap(at(c.page * PAGE))), o.safeunmap(c.a, c.page)];
      case 'publish':
        return [
          await code((p) => dsPublishU32(p, dsKey(c.key), c.value, c.flags)),
          o.publish(c.a, c.key, c.value, c.flags),
        ];
      case 'retrieve': {
        const r = await this.exec(c.a, (p) => dsRetrieveU32(p, dsKey(c.key)));
        const real = r === 'killed' ? r : { result: r.result, ...(r.result === 0 ? { value: r.value } : {}) };
        return [real, o.retrieve(c.a, c.key)];
      }
      case 'delete':
        return [await code((p) => dsDeleteU32(p, dsKey(c.key))), o.delete(c.a, c.key)];
      case 'crash':
        if (!this.sys.kill(d.ep)) throw new ModelViolation(`${d.label} is not live`);
        await this.settle();
        return [{ result: d.alive() ? 0 : -3 }, o.crash(c.a)];
    }
  }
}

function copyCall(p: Proc, g: Made, c: CopySpec, addr: number): Promise<number> {
  return c.dir === 'from'
    ? p.sys.safecopyFrom(g.ep, g.id, c.gOff, addr, c.len)
    : p.sys.safecopyTo(g.ep, g.id, c.gOff, addr, c.len);
}

/** An outcome as the differential runs compare it: grant ids differ between id schemes by design, so they are left out. */
function observed(x: Outcome | null): string {
  return x === null ? 'n/a' : JSON.stringify({ result: x.result, value: x.value });
}

const render = (x: Outcome | 'killed'): string => JSON.stringify(x === 'killed' ? { result: 'killed' } : x);

/** Compares windows and DS entries with the oracle; throws a ModelViolation on the first difference. */
function compareState(run: Run): number {
  let h = 0x811c9dc5;
  for (let a = 0; a < ACTORS; a++) {
    const real = readWindow(run.sys, run.actor(a));
    const want = run.oracle.window(a);
    const at = real.findIndex((b, i) => b !== want[i]);
    if (at >= 0)
      throw new ModelViolation(
        `${ACTOR_LABELS[a] ?? a}: window byte ${at} (page ${Math.floor(at / PAGE)}) is ${real[at] ?? '?'}, the oracle says ${want[at] ?? '?'}`,
      );
    h = hashBytes(real, h);
  }
  const ds = new Map(
    run.sys.ds
      .entries()
      .filter((e) => e.key.startsWith('fz.k'))
      .map(
        (e) => [Number(e.key.slice(4)), { owner: ACTOR_LABELS.indexOf(e.owner), value: e.value }] as const,
      ),
  );
  const want = run.oracle.dsEntries();
  const a = JSON.stringify([...ds].sort(([x], [y]) => x - y));
  const b = JSON.stringify([...want].sort(([x], [y]) => x - y));
  if (a !== b) throw new ModelViolation(`DS entries ${a}, the oracle says ${b}`);
  return h;
}

/** RS_DOWN of every actor, then the leak checks against the counts taken before the actors started. */
async function takeDown(run: Run, base: { free: number; slab: string }): Promise<string[]> {
  const { sys } = run;
  for (const label of ACTOR_LABELS) sys.stopService(label);
  await run.settle();
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
  const sys = await createSystem(config);
  const oracle = new Oracle(ACTORS, sys.config.grantIds);
  const observations: string[] = [];
  let run: Run | null = null;
  let index = -1;
  const result = (violation: Violation | null, leaks: string[]): ModelRun => ({
    commands: Math.max(0, index),
    checks: run?.checks ?? 0,
    violation,
    leaks,
    observations,
    staleReuse: oracle.staleReuse,
  });
  try {
    const start = async (): Promise<Driven[]> => {
      const out: Driven[] = [];
      for (const label of ACTOR_LABELS)
        out.push(
          await drivenActor(sys, label, {
            priv: ACTOR_PRIV,
            pages: WINDOW_PAGES + 1,
            maxRestarts: 1_000_000,
          }),
        );
      return out;
    };
    // A first start and stop of the actors lets RS, DS and VM reach their steady size (RS's stack, DS's scratch
    // page, page-table frames); what the run leaves beyond the counts taken after it is a leak.
    await start();
    for (const label of ACTOR_LABELS) sys.stopService(label);
    await sys.run();
    const base = { free: sys.vm.freePages(), slab: slabLive(sys) };
    const actors = await start();
    run = new Run(sys, actors, oracle, o.everyStep ?? true);
    for (index = 0; index < commands.length; index++) {
      const raw = commands[index];
      if (raw === undefined) break;
      const c = clamp(raw);
      const out = await run.step(c);
      if (out !== null) {
        const [real, want] = out;
        if (render(real) !== render(want))
          throw new ModelViolation(`returned ${render(real)}, the oracle says ${render(want)}`);
      }
      const h = compareState(run);
      observations.push(`${observed(out === null ? null : out[1])} ${h.toString(16)}`);
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
