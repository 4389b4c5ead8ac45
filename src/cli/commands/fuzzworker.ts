// One job of `grantvm fuzz --jobs N` on a worker thread: runs the shard it is given and posts a message per run
// and the summary at the end. Entry point: the module itself (started by runJobsInWorkers in fuzz.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzzJob } from './fuzz.ts';
import type { FuzzJob, FuzzJobMessage } from './fuzz.ts';

const port = parentPort;
if (port === null) throw new Error('fuzzworker runs in a worker thread');
const post = (m: FuzzJobMessage): void => {
  port.postMessage(m);
};
const summary = await runFuzzJob((workerData as { data: FuzzJob }).data, (runs) => {
  post({ type: 'run', runs });
});
post({ type: 'done', summary });
