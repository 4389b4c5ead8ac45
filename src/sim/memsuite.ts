// The memory driver's conformance suite as a scenario (`grantvm test memory`): the host fills video memory and
// marks the kernel image, RS starts memtest, which reads them back through /dev/mem and /dev/kmem and exercises
// /dev/null, /dev/zero and a RAM disk through grants; then two services probe VM_MAP_PHYS, one without
// physical ranges in its privileges and one allowed video memory only. Entry point: memorySuite.
import { MEM_PROC_NR } from '../include/endpoint.ts';
import { EPERM, OK } from '../include/errno.ts';
import { VIDEO_MEM_BASE, VIDEO_MEM_BYTES } from '../include/vm.ts';
import { MEMTEST_VIDEO_WRITE, memtest, physmapProbe, videoPattern } from '../user/memtest.ts';
import { GRANT_TEST_PRIV, sameBytes } from '../user/safetest.ts';
import type { TestReport } from '../user/safetest.ts';
import { exitedWith, startTestService } from './grantsuites.ts';
import type { Scenario, ScenarioOutput } from './scenario.ts';
import type { System } from './system.ts';

const KERNEL_MARKER = new TextEncoder().encode('grantvm kernel image');

function report(out: ScenarioOutput): TestReport {
  return {
    line: (text) => {
      out.line(text);
    },
    check: (name, ok, detail) => {
      out.check(name, ok, detail);
    },
  };
}

/** The RAM disk lives in the driver's own memory: a 64 KiB region of the memory process. */
function ramDiskRegion(sys: System): boolean {
  const drv = sys.vm.snapshot().processes.find((p) => p.endpoint === MEM_PROC_NR);
  return drv?.regions.some((r) => r.length === 64 * 1024 && r.presentPages === 16) ?? false;
}

/** The `memory` scenario and conformance suite (`grantvm test memory`). */
export const memorySuite: Scenario = {
  name: 'memory',
  title:
    'the memory driver: /dev/mem (video memory), /dev/kmem, /dev/null, /dev/zero and a RAM disk through grants',
  suite: 'memory',
  config: { sanity: 'functions' },
  async run(sys, out) {
    const r = report(out);
    const video = videoPattern();
    sys.mem.write(VIDEO_MEM_BASE, video, 0, VIDEO_MEM_BYTES);
    sys.mem.write(0x1000, KERNEL_MARKER, 0, KERNEL_MARKER.length);
    const machine = {
      ramBytes: sys.config.ramBytes,
      kernelBytes: sys.config.kernelBytes,
      kernelMarker: KERNEL_MARKER,
      video,
    };
    const ep = await startTestService(sys, 'memtest', memtest(r, machine), {
      priv: GRANT_TEST_PRIV,
    });
    out.check('RS started memtest', ep > 0, `endpoint ${ep}`);
    exitedWith(sys, r, 'memtest', 0);
    const seen = new Uint8Array(MEMTEST_VIDEO_WRITE.bytes.length);
    sys.mem.read(MEMTEST_VIDEO_WRITE.at, seen, 0, seen.length);
    out.check(
      "the host finds memtest's /dev/mem write in video memory",
      sameBytes(seen, MEMTEST_VIDEO_WRITE.bytes),
    );
    out.check(
      "the RAM disk is 64 KiB of preallocated memory in the driver's address space",
      ramDiskRegion(sys),
    );

    await startTestService(
      sys,
      'nophys',
      physmapProbe(r, 'nophys', video, { video: EPERM, above: EPERM, other: EPERM }),
    );
    exitedWith(sys, r, 'nophys', 0);
    const videoOnly = { ...GRANT_TEST_PRIV, physRanges: [{ base: VIDEO_MEM_BASE, length: VIDEO_MEM_BYTES }] };
    await startTestService(
      sys,
      'video',
      physmapProbe(r, 'video', video, { video: OK, above: EPERM, other: EPERM }),
      { priv: videoOnly },
    );
    exitedWith(sys, r, 'video', 0);
    sys.sanityCheck();
    out.check('sanity checks (VM, grants, DS) hold at the end', true);
  },
};
