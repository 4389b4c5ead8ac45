// The snapshot's memory views (frame map, page-table occupancy) and statistics, checked against VM's own
// accounting at every stop of a forking workload, and the counters against work whose amount is known.
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../src/sim/system.ts';
import type { System } from '../../../src/sim/system.ts';
import type { Snapshot } from '../../../src/sim/inspect.ts';
import type { FrameRun } from '../../../src/servers/vm/state.ts';
import { runScenario } from '../../../src/sim/scenario.ts';
import { forkWorkload } from '../../helpers/workloads.ts';
import { scenario as grantorRequestor } from '../../../examples/grantor-requestor.ts';

/** Every frame in exactly one run, in order; the map agrees with VM's counts and with each block's references. */
function checkFrameMap(s: Snapshot): void {
  let next = 0;
  let free = 0;
  for (const r of s.frameMap) {
    expect(r.frame).toBe(next);
    expect(r.frames).toBeGreaterThan(0);
    next += r.frames;
    if (r.info.use === 'free') free += r.frames;
    if (r.info.use === 'process') {
      expect(r.info.refs.length).toBe(r.info.refcount);
      expect(r.info.cow).toBe(r.info.refs.length > 1 && !r.info.smap);
    }
  }
  expect(next).toBe(s.vm.memory.totalPages);
  expect(free).toBe(s.vm.memory.freePages);
  const runOf = new Map<string, FrameRun>();
  for (const r of s.frameMap)
    if (r.info.use === 'process') for (const x of r.info.refs) runOf.set(`${x.endpoint}:${x.vaddr}`, r);
  for (const p of s.vm.processes) {
    for (const r of p.regions) {
      expect(r.writablePages).toBeLessThanOrEqual(r.mappedPages);
      expect(r.mappedPages).toBeLessThanOrEqual(r.length / 4096);
      checkBlocks(r, (vaddr) => runOf.get(`${p.endpoint}:${vaddr}`));
    }
  }
}

/** A region's per-block refcounts: in order, inside it, adding up to its present pages, and as the frame map says. */
function checkBlocks(
  r: Snapshot['vm']['processes'][number]['regions'][number],
  runAt: (vaddr: number) => FrameRun | undefined,
): void {
  let end = r.vaddr;
  for (const b of r.blocks) {
    expect(b.vaddr).toBeGreaterThanOrEqual(end);
    end = b.vaddr + b.pages * 4096;
    if (r.flags.includes('DIRECT')) continue;
    const run = runAt(b.vaddr);
    expect(run?.frames).toBe(b.pages);
    expect(run?.info.use === 'process' ? run.info.refcount : -1).toBe(b.refcount);
  }
  expect(end).toBeLessThanOrEqual(r.vaddr + r.length);
  expect(r.blocks.reduce((n, b) => n + b.pages, 0)).toBe(r.presentPages);
}

describe('snapshot', () => {
  it('the frame map accounts for every frame and the page tables for every region, at every 5th step', async () => {
    const sys = await createSystem({ sanity: 'top', seed: 3 });
    const snaps: Snapshot[] = [];
    const every = (step: number): System['breakpoint'] => ({
      step,
      hit: (s) => {
        snaps.push(s.inspect());
        s.breakpoint = every(step + 5);
      },
    });
    sys.breakpoint = every(sys.kernel.step + 1);
    forkWorkload(sys);
    await sys.run();
    snaps.push(sys.inspect());
    expect(snaps.length).toBeGreaterThan(10);
    for (const s of snaps) checkFrameMap(s);
    // Right after a fork, parent and child share the heap copy-on-write: frames with two references, and
    // pages the parent's page table maps read-only.
    const shared = snaps.find((s) => s.frameMap.some((r) => r.info.use === 'process' && r.info.cow));
    expect(shared).toBeDefined();
    const cowRefs =
      shared?.frameMap.flatMap((r) => (r.info.use === 'process' && r.info.cow ? r.info.refs : [])) ?? [];
    expect(new Set(cowRefs.map((x) => x.endpoint)).size).toBeGreaterThanOrEqual(2);
    expect(shared?.vm.processes.some((p) => p.regions.some((r) => r.mappedPages > r.writablePages))).toBe(
      true,
    );
    // ... and the per-block refcounts of the regions show it: blocks with refcount 2 in at least two processes.
    const sharers =
      shared?.vm.processes.filter((p) => p.regions.some((r) => r.blocks.some((b) => b.refcount > 1))) ?? [];
    expect(sharers.length).toBeGreaterThanOrEqual(2);
  });

  it('counts kernel steps, IPC, kernel calls, page faults and COW breaks', async () => {
    const sys = await createSystem({ sanity: 'top' });
    const before = sys.inspect().stats;
    expect(before.steps).toBe(sys.kernel.step);
    forkWorkload(sys);
    await sys.run();
    const after = sys.inspect().stats;
    expect(after.steps).toBe(sys.kernel.step);
    expect(after.ipc).toBeGreaterThan(before.ipc);
    expect(after.kernelCalls).toBeGreaterThan(before.kernelCalls);
    // The data pages are there from exec; the only faults are the two children's writes to a page they share
    // copy-on-write with their parent, and each breaks the sharing by copying the whole 4-page data block.
    expect(after.pageFaults - before.pageFaults).toBe(2);
    expect(after.cowBreaks - before.cowBreaks).toBe(2);
    expect(after.cowPagesCopied - before.cowPagesCopied).toBe(8);
    expect(after.exits - before.exits).toBe(4);
  });

  it('counts successful safecopies and their bytes (the grantor/requestor example copies 8 KiB + 16 B)', async () => {
    const boot = (await createSystem({ sanity: 'top' })).inspect().stats;
    const r = await runScenario(grantorRequestor, { sanity: 'top' });
    expect(r.error).toBeNull();
    const s = r.system?.inspect().stats;
    expect(s).toBeDefined();
    expect((s?.safecopies ?? 0) - boot.safecopies).toBeGreaterThanOrEqual(2);
    expect((s?.safecopyBytes ?? 0) - boot.safecopyBytes).toBeGreaterThanOrEqual(8192 + 16);
  });
});
