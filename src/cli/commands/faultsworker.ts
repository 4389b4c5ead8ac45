// One job of `grantvm faults --jobs N` on a worker thread: makes the injections it is given and posts each, then
// 'done'. Entry point: the module itself (started by makeInjections in faults.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runFaultsJob } from './faults.ts';
import type { FaultsJob, FaultsJobMessage } from './faults.ts';

const port = parentPort;
if (port === null) throw new Error('faultsworker runs in a worker thread');
const post = (m: FaultsJobMessage): void => {
  port.postMessage(m);
};
await runFaultsJob((workerData as { data: FaultsJob }).data, (index, injection) => {
  post({ type: 'injection', index, injection });
});
post({ type: 'done' });
