// Benchmarks user access through the MMU (warm TLB) against a raw Uint8Array copy of the same size.
// Entry point: runMmuBench(); run directly with `npx tsx bench/mmu.bench.ts`.
// Goal (DESIGN.md §3): userWrite/userRead of 4 KiB and 1 MiB stay within 1.5x of the raw copy.

import { Bench } from 'tinybench';
import { PhysMem } from '../src/hw/physmem.ts';
import { PTE, Tlb, mapPage, userRead, userWrite } from '../src/hw/mmu.ts';
import { MiB, PAGE_SIZE } from '../src/lib/units.ts';

const V = 0x19000000;
const URW = PTE.P | PTE.W | PTE.U;
const SIZES = [{ label: '4 KiB', bytes: 4 * 1024 }, { label: '1 MiB', bytes: MiB }] as const;
/** Operations per benchmark call, so one sample is well above the timer's resolution. */
const BATCH = { '4 KiB': 256, '1 MiB': 4 } as const;

type Row = { name: string; nsPerOp: number; ratio: number };

/** A 64 MiB machine with `pages` user pages at V, on contiguous or scattered (every other, descending) frames. */
function setup(pages: number, scattered: boolean) {
  const mem = new PhysMem(64 * MiB);
  let nextTable = 0x100;
  const alloc = (): number => nextTable++;
  const dir = alloc();
  mem.zero(dir * PAGE_SIZE, PAGE_SIZE);
  for (let i = 0; i < pages; i++) {
    const frame = scattered ? 0x3000 - 2 * i : 0x1000 + i;
    mapPage(mem, dir, V + i * PAGE_SIZE, frame, URW, alloc);
  }
  const tlb = new Tlb(Math.max(64, pages));
  return { mem, dir, tlb };
}

export async function runMmuBench(): Promise<Row[]> {
  const bench = new Bench({ time: 300, warmupTime: 100 });
  const names: Array<{ name: string; raw: string; batch: number }> = [];
  for (const { label, bytes } of SIZES) {
    const batch = BATCH[label];
    const src = new Uint8Array(bytes).map((_, i) => i & 0xff);
    const dst = new Uint8Array(bytes);
    const ram = new Uint8Array(2 * bytes);
    const raw = `raw set ${label}`;
    bench.add(raw, () => {
      for (let i = 0; i < batch; i++) ram.set(src, bytes);
    });
    bench.add(`raw read ${label}`, () => {
      for (let i = 0; i < batch; i++) dst.set(ram.subarray(bytes, 2 * bytes));
    });
    names.push({ name: raw, raw, batch }, { name: `raw read ${label}`, raw, batch });
    for (const scattered of [false, true]) {
      const { mem, dir, tlb } = setup(bytes / PAGE_SIZE, scattered);
      const kind = scattered ? 'scattered' : 'contiguous';
      if (userWrite(mem, dir, tlb, V, src, 0, bytes) !== null) throw new Error('bench: warm-up write faulted');
      const w = `userWrite ${label} ${kind}`;
      const r = `userRead ${label} ${kind}`;
      bench.add(w, () => {
        for (let i = 0; i < batch; i++) userWrite(mem, dir, tlb, V, src, 0, bytes);
      });
      bench.add(r, () => {
        for (let i = 0; i < batch; i++) userRead(mem, dir, tlb, V, dst, 0, bytes);
      });
      names.push({ name: w, raw, batch }, { name: r, raw, batch });
    }
  }
  await bench.run();
  const nsPerOp = (name: string, batch: number): number => {
    const result = bench.getTask(name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`bench: ${name} has no result`);
    return (result.latency.mean * 1e6) / batch;
  };
  return names.map(({ name, raw, batch }) => {
    const ns = nsPerOp(name, batch);
    return { name, nsPerOp: Math.round(ns), ratio: Math.round((ns / nsPerOp(raw, batch)) * 100) / 100 };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runMmuBench();
  console.table(rows);
}
