// A bare kernel for unit tests: physical memory, the kernel, and processes made from programs, no servers.
import { Kernel } from '../../src/kernel/kernel.ts';
import type { KernelConfig } from '../../src/kernel/kernel.ts';
import { makeSystemPriv } from '../../src/kernel/priv.ts';
import type { PrivSpec } from '../../src/include/priv.ts';
import { PhysMem } from '../../src/hw/physmem.ts';
import { Proc, toProgram } from '../../src/libsys/proc.ts';
import type { Program } from '../../src/libsys/proc.ts';
import type { TraceEvent } from '../../src/include/trace.ts';

export interface Bare {
  k: Kernel;
  trace: TraceEvent[];
  spawn(slot: number, name: string, main: Program, spec?: PrivSpec, priority?: number): Proc;
}

export const ALL: PrivSpec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' };

export function bareKernel(config: Partial<KernelConfig> = {}): Bare {
  const trace: TraceEvent[] = [];
  const k = new Kernel(new PhysMem(16 * 1024 * 1024), {
    signalsToPm: false,
    trace: (e) => trace.push(e),
    ...config,
  });
  return {
    k,
    trace,
    spawn(slot, name, main, spec = ALL, priority = 4) {
      const kp = k.createProcess({
        slot,
        name,
        program: toProgram(k, main),
        priv: makeSystemPriv(k.newPrivId(), spec),
        priority,
        generation: 0,
      });
      return new Proc(k, kp);
    },
  };
}
