// Benchmark: grants and safecopy on a real system (createSystem, sanity off, no trace), each against the host's
// own operation measured in the same run. Entry point: runGrantsBench(); run directly with `npx tsx bench/grants.bench.ts`.
// Goals (issue 4): safecopy of ≥ 64 KiB ≤ 1.5× copyWithin of the same size; 1-64 B safecopies ≥ 1 M/s (printed as
// the time per call against a 1 µs budget); an indirect chain of depth 5 ≤ 2× a direct grant; a COW safecopy of
// ≥ 16 pages never written ≤ 0.1× the plain copy; and the number of write-touched destination pages from which
// COW is slower than the plain copy (the crossover).
import { OK } from '../../include/errno.ts';
import { CPF_READ, CPF_WRITE } from '../../include/safecopies.ts';
import { VM_PROCSTART } from '../../include/vm.ts';
import type { Proc } from '../../libsys/proc.ts';
import { createSystem } from '../../sim/system.ts';
import type { System } from '../../sim/system.ts';
import type { BenchResult, Progress } from './report.ts';
import { printResults } from './report.ts';
import { drivenActor } from '../../sim/driven.ts';
import type { Driven } from '../../sim/driven.ts';

const PAGE = 4096;
const KiB = 1024;
const MiB = 1024 * KiB;
/** Start of an actor's data (after 4 pages of text). */
const HEAP = VM_PROCSTART + 4 * PAGE;
/** Largest copy benchmarked; an actor's data holds a source and a destination of this size. */
const MAX_COPY = MiB;
/** The destination area inside an actor's data. */
const DST = HEAP + MAX_COPY + 16 * PAGE;

/** A user program promoted to a system process, run one action (in the process) at a time. */
function actor(sys: System, name: string): Promise<Driven> {
  return drivenActor(sys, name, { spawn: { image: { data: 2 * MAX_COPY + 32 * PAGE }, system: true } });
}

/** A booted system with a granter G (source bytes written, one READ|WRITE grant over its data) and a grantee R. */
interface World {
  sys: System;
  g: Driven;
  r: Driven;
  gid: number;
}

async function world(cow: boolean): Promise<World> {
  const sys = await createSystem({ sanity: 'off', trace: null, cowSafecopy: cow, ramBytes: 64 * MiB });
  sys.kernel.config.cowSafecopy = cow;
  const g = await actor(sys, 'G');
  const r = await actor(sys, 'R');
  const src = new Uint8Array(MAX_COPY);
  for (let i = 0; i < MAX_COPY; i++) src[i] = (i * 13 + 7) & 0xff;
  const gid = await g.do(async (p) => {
    await p.write(HEAP, src);
    return (await p.cpf.grantDirect(r.ep, HEAP, MAX_COPY, CPF_READ | CPF_WRITE)).id;
  });
  // Fault in R's destination once, so every later copy measures steady state.
  await r.do((p) => p.write(DST, new Uint8Array(MAX_COPY)));
  return { sys, g, r, gid };
}

/** Best time (ns) per call of `n` safecopyFrom calls in R, timed inside the process; after each call `after` runs. */
async function timeCopies(
  w: World,
  granter: number,
  gid: number,
  bytes: number,
  n: number,
  rounds: number,
  after?: (p: Proc) => Promise<void>,
): Promise<number> {
  return w.r.do(async (p) => {
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const res = await p.sys.safecopyFrom(granter, gid, 0, DST, bytes);
        if (res !== OK) throw new Error(`bench: safecopy of ${bytes} B failed: ${res}`);
        if (after !== undefined) await after(p);
      }
      best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
    }
    return best;
  });
}

/** The host's own copy: copyWithin of `bytes` inside one buffer, best ns per copy. */
function hostCopyNs(bytes: number, n: number, rounds: number): number {
  const buf = new Uint8Array(2 * bytes + PAGE);
  for (let i = 0; i < bytes; i++) buf[i] = i & 0xff;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) buf.copyWithin(bytes + PAGE, 0, bytes);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
  }
  return best;
}

const iterations = (bytes: number): number =>
  Math.max(20, Math.min(20_000, Math.floor((64 * MiB) / Math.max(bytes, 4 * KiB))));

async function largeCopies(plain: World): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const bytes of [64 * KiB, 256 * KiB, MAX_COPY]) {
    const n = iterations(bytes);
    let host = Number.POSITIVE_INFINITY;
    let model = Number.POSITIVE_INFINITY;
    // Interleaved rounds: a burst of load from elsewhere skews both sides of a round alike.
    for (let round = 0; round < 5; round++) {
      host = Math.min(host, hostCopyNs(bytes, n, 1));
      model = Math.min(model, await timeCopies(plain, plain.g.ep, plain.gid, bytes, n, 1));
    }
    const label = `${bytes / KiB} KiB`;
    out.push({ name: `host copyWithin ${label} (baseline)`, nsPerOp: host, ratio: 1 });
    out.push({ name: `safecopy ${label} (plain copy)`, nsPerOp: model, ratio: model / host, goal: 1.5 });
  }
  return out;
}

/** Small copies: the time of one call against the 1 µs that 1 M safecopies/s allows. */
async function smallCopies(w: World): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const bytes of [1, 8, 64]) {
    const ns = await timeCopies(w, w.g.ep, w.gid, bytes, 50_000, 5);
    const perSecond = 1e9 / ns;
    out.push({
      name: `safecopy ${bytes} B: ${(perSecond / 1e6).toFixed(2)} M safecopies/s (vs the 1 µs budget)`,
      nsPerOp: ns,
      ratio: ns / 1000,
      goal: 1,
    });
  }
  return out;
}

/** Depth-5 chain: G → I1 (direct), I1 → I2 … I5 → R (indirect), against R using G's direct grant. */
async function indirectChain(w: World): Promise<BenchResult[]> {
  const links: Driven[] = [];
  for (let i = 1; i <= 5; i++) links.push(await actor(w.sys, `I${i}`));
  const first = links[0];
  if (first === undefined) throw new Error('bench: no chain');
  let from = w.g.ep;
  let gid = await w.g.do(async (p) => (await p.cpf.grantDirect(first.ep, HEAP, MAX_COPY, CPF_READ)).id);
  for (let i = 0; i < links.length; i++) {
    const link = links[i];
    if (link === undefined) throw new Error('bench: no chain');
    const to = links[i + 1]?.ep ?? w.r.ep;
    const hisFrom = from;
    const hisGid = gid;
    gid = await link.do(async (p) => (await p.cpf.grantIndirect(to, hisFrom, hisGid)).id);
    from = link.ep;
  }
  const out: BenchResult[] = [];
  for (const bytes of [8, 64 * KiB]) {
    const n = bytes < PAGE ? 20_000 : 500;
    let direct = Number.POSITIVE_INFINITY;
    let chain = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      direct = Math.min(direct, await timeCopies(w, w.g.ep, w.gid, bytes, n, 1));
      chain = Math.min(chain, await timeCopies(w, from, gid, bytes, n, 1));
    }
    const label = bytes < KiB ? `${bytes} B` : `${bytes / KiB} KiB`;
    out.push({ name: `safecopy ${label}, direct grant (baseline)`, nsPerOp: direct, ratio: 1 });
    out.push({
      name: `safecopy ${label}, indirect chain of depth 5`,
      nsPerOp: chain,
      ratio: chain / direct,
      goal: 2,
    });
  }
  return out;
}

/** Writes one byte into each of the first `k` pages of the destination of an `pages`-page copy, spread evenly. */
function toucher(pages: number, k: number): ((p: Proc) => Promise<void>) | undefined {
  if (k === 0) return undefined;
  const stride = Math.max(1, Math.floor(pages / k));
  return async (p) => {
    for (let i = 0; i < k; i++) await p.writeU8(DST + ((i * stride) % pages) * PAGE, i);
  };
}

/**
 * COW against the plain copy of the same pages: never written (goal ≤ 0.1), then write-touching k destination
 * pages after each copy. The crossover is the smallest k of 1, 2, 4, … where COW becomes slower; its estimate is
 * what COW saves divided by what each written page costs it more than the plain copy (a COW break: fault, VM,
 * page copy), the row's ns/op.
 */
async function cowCopies(plain: World, cow: World): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  // Warm-up of the COW paths (COWMAP in VM, COW breaks on write faults), which the plain warm-up never runs.
  // They take thousands of calls to reach steady speed.
  await timeCopies(cow, cow.g.ep, cow.gid, 16 * PAGE, 5000, 1);
  await timeCopies(cow, cow.g.ep, cow.gid, 16 * PAGE, 100, 1, toucher(16, 16));
  for (const pages of [16, 64, 256]) {
    const bytes = pages * PAGE;
    const n = Math.max(20, Math.floor(4000 / pages));
    let p0 = Number.POSITIVE_INFINITY;
    let c0 = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      p0 = Math.min(p0, await timeCopies(plain, plain.g.ep, plain.gid, bytes, n, 1));
      c0 = Math.min(c0, await timeCopies(cow, cow.g.ep, cow.gid, bytes, n, 1));
    }
    out.push({ name: `safecopy ${pages} pages, plain copy (baseline)`, nsPerOp: p0, ratio: 1 });
    out.push({ name: `safecopy ${pages} pages, COW, never written`, nsPerOp: c0, ratio: c0 / p0, goal: 0.1 });
    let k = 1;
    let pk = p0;
    let ck = c0;
    for (; k <= pages; k *= 2) {
      const touch = toucher(pages, k);
      pk = Number.POSITIVE_INFINITY;
      ck = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 3; round++) {
        pk = Math.min(pk, await timeCopies(plain, plain.g.ep, plain.gid, bytes, n, 1, touch));
        ck = Math.min(ck, await timeCopies(cow, cow.g.ep, cow.gid, bytes, n, 1, touch));
      }
      if (ck > pk) break;
    }
    const written = Math.min(k, pages);
    const perPage = (ck - c0 - (pk - p0)) / written;
    const estimate = c0 >= p0 ? 0 : (p0 - c0) / perPage;
    let found = `slower from ${k} of ${pages} pages written`;
    if (c0 >= p0) found = 'slower even with no page written';
    else if (k > pages) found = `faster even with all ${pages} pages written`;
    out.push({
      name: `  COW ${found} (crossover ≈ ${estimate.toFixed(1)} pages; ns/op: per written page)`,
      nsPerOp: perPage,
      ratio: ck / pk,
    });
  }
  return out;
}

const sections = {
  large: (plain: World) => largeCopies(plain),
  small: (plain: World) => smallCopies(plain),
  indirect: (plain: World) => indirectChain(plain),
  cow: (plain: World, cow: World) => cowCopies(plain, cow),
} as const;

/** Every section, or only those named in `only` (large, small, indirect, cow). */
export async function runGrantsBench(only: readonly string[] = [], progress?: Progress): Promise<BenchResult[]> {
  const plain = await world(false);
  const cow = await world(true);
  // Warm-up: the first calls of a fresh process run unoptimised code.
  await timeCopies(plain, plain.g.ep, plain.gid, 64, 20_000, 1);
  await timeCopies(plain, plain.g.ep, plain.gid, 64 * KiB, 500, 1);
  const out: BenchResult[] = [];
  const chosen = Object.entries(sections).filter(([name]) => only.length === 0 || only.includes(name));
  progress?.(0, chosen.length);
  for (const [i, [, run]] of chosen.entries()) {
    out.push(...(await run(plain, cow)));
    progress?.(i + 1, chosen.length);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`)
  printResults('Grants', await runGrantsBench(process.argv.slice(2)));
