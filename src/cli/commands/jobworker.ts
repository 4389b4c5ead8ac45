// One job of `grantvm fuzz --jobs N` or `grantvm faults --jobs N` on a worker thread: a fuzz shard, which posts a
// message per run and its summary at the end, or a slice of fault injections, which posts each injection, then
// 'done'. One module for both, so that a kept worker (serveJobs) serves further jobs of either command: a host
// that runs both commands (the test host) loads the sources into a worker once. Entry point: the module itself
// (started by runJobsInWorkers in fuzz.ts and makeInjections in faults.ts).
import { serveJobs } from '../workers.ts';
import { runFaultsJob } from './faults.ts';
import type { FaultsJob, FaultsJobMessage } from './faults.ts';
import { runFuzzJob } from './fuzz.ts';
import type { FuzzJob, FuzzJobMessage } from './fuzz.ts';

/** A job of either command, as runWorkers hands it to this module. */
export type CommandJob = { fuzz: FuzzJob } | { faults: FaultsJob };

serveJobs(async (job: CommandJob, post: (m: FuzzJobMessage | FaultsJobMessage) => void) => {
  if ('fuzz' in job) {
    const summary = await runFuzzJob(job.fuzz, (runs) => {
      post({ type: 'run', runs });
    });
    post({ type: 'done', summary });
    return;
  }
  await runFaultsJob(job.faults, (index, injection) => {
    post({ type: 'injection', index, injection });
  });
  post({ type: 'done' });
});
