// Benchmarks user access through the MMU (warm TLB) against a raw Uint8Array copy of the same size.
// Entry point: runMmuBench(); run directly with `npx tsx bench/mmu.bench.ts`.
// Goal (DESIGN.md §3): userWrite/userRead of 4 KiB and 1 MiB stay within 1.5x of the raw copy.

import { Bench } from 'tinybench';
import { PhysMem } from '../../hw/physmem.ts';
import { PTE, Tlb, mapPage, userRead, userWrite } from '../../hw/mmu.ts';
import { MiB, PAGE_SIZE } from '../../lib/units.ts';
import type { BenchResult, Progress } from './report.ts';
import { Rounds } from './report.ts';

const V = 0x19000000;
const URW = PTE.P | PTE.W | PTE.U;
const SIZES = [
  { label: '4 KiB', bytes: 4 * 1024 },
  { label: '1 MiB', bytes: MiB },
] as const;
/** Operations per benchmark call, so one sample is well above the timer's resolution. */
const BATCH = { '4 KiB': 256, '1 MiB': 4 } as const;

/**
 * A 64 MiB machine with `pages` user pages at V, on contiguous frames (as exec's preallocation gives) or scattered
 * ones (every other frame, descending, like pages faulted in one by one from a top-down allocator).
 */
function setup(pages: number, scattered: boolean) {
  const mem = new PhysMem(64 * MiB);
  let nextTable = 0x100;
  const alloc = (): number => nextTable++;
  const dir = alloc();
  for (let i = 0; i < pages; i++) {
    const frame = scattered ? 0x3000 - 2 * i : 0x1000 + i;
    mapPage(mem, dir, V + i * PAGE_SIZE, frame, URW, alloc);
  }
  // Large enough to hold every page: the benchmark measures a warm TLB.
  const tlb = new Tlb(Math.max(64, pages));
  return { mem, dir, tlb };
}

type Case = { name: string; raw: string; batch: number; fn: () => void };

/** The cases, with their machines mapped and TLBs warmed by one access. */
function cases(): Case[] {
  const out: Case[] = [];
  for (const { label, bytes } of SIZES) {
    const batch = BATCH[label];
    const src = new Uint8Array(bytes).map((_, i) => i & 0xff);
    const dst = new Uint8Array(bytes);
    const ram = new Uint8Array(2 * bytes);
    const raw = `raw Uint8Array.set ${label}`;
    out.push({
      name: raw,
      raw,
      batch,
      fn: () => {
        for (let i = 0; i < batch; i++) ram.set(src, bytes);
      },
    });
    if (bytes > PAGE_SIZE) out.push(scatteredHostCopy(label, bytes, raw, batch, src));
    // One page has no layout to speak of; the 1 MiB cases run on both layouts.
    for (const scattered of bytes > PAGE_SIZE ? [false, true] : [false]) {
      const { mem, dir, tlb } = setup(bytes / PAGE_SIZE, scattered);
      const kind = bytes === PAGE_SIZE ? '' : scattered ? ' scattered' : ' contiguous';
      if (userWrite(mem, dir, tlb, V, src, 0, bytes) !== null)
        throw new Error('bench: warm-up write faulted');
      out.push({
        name: `userWrite ${label}${kind}`,
        raw,
        batch,
        fn: () => {
          for (let i = 0; i < batch; i++) userWrite(mem, dir, tlb, V, src, 0, bytes);
        },
      });
      out.push({
        name: `userRead ${label}${kind}`,
        raw,
        batch,
        fn: () => {
          for (let i = 0; i < batch; i++) userRead(mem, dir, tlb, V, dst, 0, bytes);
        },
      });
    }
  }
  return out;
}

/**
 * The host's own cost of the scattered layout, with no MMU: one set per page into the same every-other-frame,
 * descending pattern. The distance between this row and the raw copy is the memory system's, not the model's.
 */
function scatteredHostCopy(label: string, bytes: number, raw: string, batch: number, src: Uint8Array): Case {
  const pages = bytes / PAGE_SIZE;
  const host = new Uint8Array(2 * bytes + PAGE_SIZE);
  const srcBuf = src.buffer;
  return {
    name: `host page-by-page set ${label} scattered (no MMU)`,
    raw,
    batch,
    fn: () => {
      for (let i = 0; i < batch; i++) {
        for (let p = 0; p < pages; p++) {
          host.set(new Uint8Array(srcBuf, p * PAGE_SIZE, PAGE_SIZE), 2 * (pages - p) * PAGE_SIZE);
        }
      }
    },
  };
}

/**
 * Several short rounds over all cases; each round's ratios compare against the raw copy of the same round, and
 * the medians over rounds are reported, so a burst of load from another process skews one round, not the result.
 */
export async function runMmuBench(rounds = 5, progress?: Progress): Promise<BenchResult[]> {
  const all = cases();
  const r = new Rounds();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: 100, warmupTime: 50 });
    for (const c of all) bench.add(c.name, c.fn);
    await bench.run();
    const perOp = new Map<string, number>();
    for (const c of all) {
      const result = bench.getTask(c.name)?.result;
      if (result === undefined || !('latency' in result)) throw new Error(`bench: ${c.name} has no result`);
      perOp.set(c.name, (result.latency.p50 * 1e6) / c.batch);
    }
    for (const c of all) r.add(c.name, perOp.get(c.name) ?? Number.NaN);
    progress?.(round + 1, rounds);
  }
  return all.map((c) => (c.raw === c.name ? r.result(c.name) : r.result(c.name, { baseline: c.raw })));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runMmuBench();
  console.table(rows);
}
