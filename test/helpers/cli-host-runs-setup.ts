// Vitest's global setup of the shared project: the store of the runs the docs tests share (cli-host-runs.ts), a
// directory made when the test run starts, handed to the test files as inject('hostRuns'), removed when it ends.
// Entry points: setup (and the teardown it returns).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  /** What the global setup hands the test files. */
  export interface ProvidedContext {
    /** The directory of the runs the docs tests share. */
    hostRuns: string;
  }
}

/** Makes the store and provides it; returns its removal. */
export function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'grantvm-runs-'));
  project.provide('hostRuns', dir);
  return () => {
    rmSync(dir, { recursive: true, force: true });
  };
}
