// One job of `grantvm fuzz --jobs N` on a worker thread: runs the shard it is given and posts a message per run
// and the summary at the end; a kept worker serves further jobs (serveJobs). Entry point: the module itself
// (started by runJobsInWorkers in fuzz.ts).
import { serveJobs } from '../workers.ts';
import { runFuzzJob } from './fuzz.ts';
import type { FuzzJob, FuzzJobMessage } from './fuzz.ts';

serveJobs(async (job: FuzzJob, post: (m: FuzzJobMessage) => void) => {
  const summary = await runFuzzJob(job, (runs) => {
    post({ type: 'run', runs });
  });
  post({ type: 'done', summary });
});
