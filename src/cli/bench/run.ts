// `npm run bench`: every benchmark, each printed as ns/op and a ratio against the host's own operation
// measured in the same run. Speed goals live here, never in timed tests.
import { runDsBench } from './ds.bench.ts';
import { runGrantsBench } from './grants.bench.ts';
import { runIpcBench } from './ipc.bench.ts';
import { runMmuBench } from './mmu.bench.ts';
import { printResults } from './report.ts';
import { runVmBench } from './vm.bench.ts';

const groups: [string, () => Promise<readonly { name: string; nsPerOp: number; ratio: number; goal?: number }[]>][] = [
  ['IPC: sendrec round trip vs bare async ping-pong', runIpcBench],
  ['MMU: writes and reads through the MMU vs raw TypedArray copies', runMmuBench],
  ['Grants: safecopy vs copyWithin, small-copy rate, indirect chains, copy-on-write', () => runGrantsBench()],
  ['VM: fork, faults, COW break and the sanity sweep vs raw TypedArray work and their goals', runVmBench],
  ['DS: publish+retrieve round trips, subscription fan-out per subscriber, restart by RS (kernel steps)', runDsBench],
];

/** `npm run bench -- IPC VM`: only the named groups (the word before the colon). */
const only = process.argv.slice(2).map((o) => o.toLowerCase());
for (const [name, run] of groups) {
  const key = (name.split(':')[0] ?? name).toLowerCase();
  if (only.length > 0 && !only.includes(key)) continue;
  printResults(name, await run());
}
