// Starts the test host (cli-host-process.ts) as bin/grantvm.js starts the CLI: registers tsx in this thread only,
// then imports it. (A flag such as --import tsx would pass on to the scenario worker threads, which register tsx
// themselves, and would be resolved from the directory of each command.)
import { register } from 'tsx/esm/api';

register();
await import('./cli-host-process.ts');
