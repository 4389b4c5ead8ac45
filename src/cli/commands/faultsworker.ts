// One job of `grantvm faults --jobs N` on a worker thread: makes the injections it is given and posts each, then
// 'done'; a kept worker serves further jobs (serveJobs). Entry point: the module itself (started by makeInjections
// in faults.ts).
import { serveJobs } from '../workers.ts';
import { runFaultsJob } from './faults.ts';
import type { FaultsJob, FaultsJobMessage } from './faults.ts';

serveJobs(async (job: FaultsJob, post: (m: FaultsJobMessage) => void) => {
  await runFaultsJob(job, (index, injection) => {
    post({ type: 'injection', index, injection });
  });
  post({ type: 'done' });
});
