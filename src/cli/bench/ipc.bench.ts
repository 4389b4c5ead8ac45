// Benchmark: a sendrec round trip through the model's kernel against a bare async ping-pong between two
// coroutines with direct hand-over, measured in the same run. Goal (issue 2): ratio ≤ 2.
import { ANY } from '../../include/endpoint.ts';
import { Kernel } from '../../kernel/kernel.ts';
import { makeSystemPriv } from '../../kernel/priv.ts';
import { PhysMem } from '../../hw/physmem.ts';
import { toProgram } from '../../libsys/proc.ts';
import type { Program } from '../../libsys/proc.ts';
import type { BenchResult, Progress } from './report.ts';
import { printResults } from './report.ts';

/** Two coroutines handing a value back and forth, one promise resolution per switch. */
async function bareMsPerRoundTrip(n: number): Promise<number> {
  const none: (v: number) => void = () => undefined;
  const ch = { toServer: none, toClient: none };
  const server = (async () => {
    for (;;) {
      const v = await new Promise<number>((r) => (ch.toServer = r));
      if (v < 0) return;
      ch.toClient(v + 1);
    }
  })();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const reply = new Promise<number>((r) => (ch.toClient = r));
    ch.toServer(i);
    await reply;
  }
  const t = performance.now() - t0;
  ch.toServer(-1);
  await server;
  return t;
}

/** A client's sendrec round trips to a server that replies with send (`reply: 'send'`) or sendnb. */
async function sendrecMs(n: number, reply: 'send' | 'sendnb' = 'send'): Promise<number> {
  const k = new Kernel(new PhysMem(16 * 1024 * 1024), { signalsToPm: false, trace: null, quantum: 1_000_000_000 });
  const spec = { ipcTo: 'all', kernelCalls: 'all', vmCalls: 'all' } as const;
  const spawn = (slot: number, main: Program): void => {
    k.createProcess({ slot, name: `p${slot}`, program: toProgram(k, main), priv: makeSystemPriv(k.newPrivId(), spec), priority: 4, generation: 0 });
  };
  let elapsed = 0;
  spawn(20, async (p) => {
    for (;;) {
      const m = await p.receive(ANY);
      if (m.type < 0) return;
      if (reply === 'send') await p.send(m.source, { type: 0, v: m.v });
      else p.sendnb(m.source, { type: 0, v: m.v });
    }
  });
  spawn(21, async (p) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await p.sendrec(20, { type: 1, v: i });
    elapsed = performance.now() - t0;
    await p.send(20, { type: -1 });
  });
  await k.run();
  return elapsed;
}

/** `rounds` interleaved rounds (best of each); `progress` hears of every finished round. */
export async function runIpcBench(rounds = 7, progress?: Progress): Promise<BenchResult[]> {
  const n = 200_000;
  await bareMsPerRoundTrip(20_000);
  await sendrecMs(20_000);
  // Interleaved rounds, best of each: a burst of load from elsewhere skews one round of both, not one side.
  let bare = Number.POSITIVE_INFINITY;
  let model = Number.POSITIVE_INFINITY;
  let modelNb = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    bare = Math.min(bare, await bareMsPerRoundTrip(n));
    model = Math.min(model, await sendrecMs(n));
    modelNb = Math.min(modelNb, await sendrecMs(n, 'sendnb'));
    progress?.(round + 1, rounds);
  }
  const bareNs = (bare * 1e6) / n;
  const modelNs = (model * 1e6) / n;
  const nbNs = (modelNb * 1e6) / n;
  return [
    { name: 'bare async ping-pong (baseline)', nsPerOp: bareNs, ratio: 1 },
    { name: 'sendrec round trip, server replies with send', nsPerOp: modelNs, ratio: modelNs / bareNs, goal: 2 },
    { name: 'sendrec round trip, server replies with sendnb', nsPerOp: nbNs, ratio: nbNs / bareNs, goal: 2 },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) printResults('IPC', await runIpcBench());
