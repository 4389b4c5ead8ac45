// Vitest's global setup of the shared project: the store of the runs the docs tests share (cli-host-runs.ts), a
// directory made when the test run starts, and the pool of test hosts that use it, one host per Vitest pool slot
// (cli-host-pool.ts), handed to the test files as inject('hostPool'); the store emptied and the hosts started
// anew when watch mode runs the files again; both ended when the run ends. Entry points: setup (and the teardown
// it returns).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startHostPool } from './cli-host-pool.ts';

declare module 'vitest' {
  /** What the global setup hands the test files. */
  export interface ProvidedContext {
    /** The socket of the pool of test hosts. */
    hostPool: string;
  }
}

/** Makes the store and the pool and provides the pool; returns their end. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runs = mkdtempSync(join(tmpdir(), 'grantvm-runs-'));
  const pool = await startHostPool(runs);
  project.provide('hostPool', pool.socket);
  // Watch mode: the files run again after an edit; a host still runs the sources it loaded, and a stored run was
  // made with them.
  project.onTestsRerun(async () => {
    await pool.restart();
    for (const entry of readdirSync(runs)) rmSync(join(runs, entry), { recursive: true, force: true });
  });
  return async () => {
    await pool.close();
    rmSync(runs, { recursive: true, force: true });
  };
}
