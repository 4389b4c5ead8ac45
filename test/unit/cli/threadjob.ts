// A job module for workers.test.ts: answers each job with the job and the worker thread that ran it.
import { threadId } from 'node:worker_threads';
import { serveJobs } from '../../../src/cli/workers.ts';

serveJobs(async (job: number, post: (m: { type: 'done'; job: number; thread: number }) => void) => {
  await Promise.resolve();
  post({ type: 'done', job, thread: threadId });
});
