// The memory driver's conformance program as a scenario (spec/vm.md §12.3–4): every memtest check passes, the
// physical-mapping probes answer by privilege, and the suite is reachable as `grantvm test memory`.
import { describe, expect, it } from 'vitest';
import { VIDEO_MEM_BASE } from '../../../src/include/vm.ts';
import { memorySuite } from '../../../src/sim/memsuite.ts';
import { runScenario } from '../../../src/sim/scenario.ts';
import { conformanceSuites, findScenario } from '../../../src/sim/scenarios.ts';

describe('the memory conformance scenario', () => {
  it('memtest passes every check; only a service with video memory in its priv maps it', async () => {
    const r = await runScenario(memorySuite, { ramBytes: 16 * 1024 * 1024, sanity: 'top' });
    expect(r.error).toBeNull();
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    const names = r.checks.map((c) => c.name);
    expect(names.filter((n) => n.startsWith('MEMTEST: ')).length).toBeGreaterThan(50);
    expect(names).toContain('MEMTEST: /dev/mem: they are what the host wrote there');
    expect(names).toContain('nophys: VM_MAP_PHYS of video memory → EPERM');
    expect(names).toContain('video: VM_MAP_PHYS of video memory → OK');
  });

  it('fails when video memory does not hold what the host wrote', async () => {
    const tampered = {
      ...memorySuite,
      run: async (...a: Parameters<typeof memorySuite.run>) => {
        const [sys] = a;
        // Overwrite the host's pattern once memtest has started (it is written at the start of run()).
        sys.breakpoint = {
          step: sys.kernel.step + 5,
          hit: (s) => {
            s.mem.zero(VIDEO_MEM_BASE + 0x18000, 4096);
          },
        };
        await memorySuite.run(...a);
      },
    };
    const r = await runScenario(tampered, { ramBytes: 16 * 1024 * 1024, sanity: 'off' });
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toContain(
      'MEMTEST: /dev/mem: they are what the host wrote there',
    );
  });

  it('is a built-in scenario and the memory conformance suite', () => {
    expect(findScenario('memory')).toBe(memorySuite);
    expect(conformanceSuites().get('memory')).toEqual([memorySuite]);
  });
});
