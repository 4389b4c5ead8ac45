// Benchmark: a sendrec round trip through the model's kernel against a bare async ping-pong between two
// coroutines with direct hand-over, measured in the same run. Goal (issues 2 and 15): ratio ≤ 2.
import { ANY } from '../../include/endpoint.ts';
import { Kernel } from '../../kernel/kernel.ts';
import { makeSystemPriv } from '../../kernel/priv.ts';
import { PhysMem } from '../../hw/physmem.ts';
import { toProgram } from '../../libsys/proc.ts';
import type { Program } from '../../libsys/proc.ts';
import type { BenchResult, Progress } from './report.ts';
import { Rounds, hostNow, printResults } from './report.ts';

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
  const t0 = hostNow();
  for (let i = 0; i < n; i++) {
    const reply = new Promise<number>((r) => (ch.toClient = r));
    ch.toServer(i);
    await reply;
  }
  const t = hostNow() - t0;
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
    const t0 = hostNow();
    for (let i = 0; i < n; i++) await p.sendrec(20, { type: 1, v: i });
    elapsed = hostNow() - t0;
    await p.send(20, { type: -1 });
  });
  await k.run();
  return elapsed;
}

/** `rounds` interleaved rounds (median, min and max of each); `progress` hears of every finished round. */
export async function runIpcBench(rounds = 7, progress?: Progress): Promise<BenchResult[]> {
  const n = 200_000;
  await bareMsPerRoundTrip(20_000);
  await sendrecMs(20_000);
  const BARE = 'bare async ping-pong (baseline)';
  const SEND = 'sendrec round trip, server replies with send';
  const SENDNB = 'sendrec round trip, server replies with sendnb';
  // Interleaved rounds: a burst of load from elsewhere skews one round of both sides, not one side.
  const r = new Rounds();
  for (let round = 0; round < rounds; round++) {
    r.add(BARE, ((await bareMsPerRoundTrip(n)) * 1e6) / n);
    r.add(SEND, ((await sendrecMs(n)) * 1e6) / n);
    r.add(SENDNB, ((await sendrecMs(n, 'sendnb')) * 1e6) / n);
    progress?.(round + 1, rounds);
  }
  return [r.result(BARE), r.result(SEND, { baseline: BARE, goal: 2 }), r.result(SENDNB, { baseline: BARE, goal: 2 })];
}

if (import.meta.url === `file://${process.argv[1]}`) printResults('IPC', await runIpcBench());
