// `npm run bench`: every benchmark, each printed as ns/op and a ratio against the host's own operation
// measured in the same run. Speed goals live here, never in timed tests.
import { runIpcBench } from './ipc.bench.ts';
import { runMmuBench } from './mmu.bench.ts';
import { printResults } from './report.ts';

const groups: [string, () => Promise<readonly { name: string; nsPerOp: number; ratio: number; goal?: number }[]>][] = [
  ['IPC: sendrec round trip vs bare async ping-pong', runIpcBench],
  ['MMU: writes and reads through the MMU vs raw TypedArray copies', runMmuBench],
];

const only = process.argv.slice(2);
for (const [name, run] of groups) {
  if (only.length > 0 && !only.some((o) => name.toLowerCase().includes(o.toLowerCase()))) continue;
  printResults(name, await run());
}
