// The grantvm process (bin/grantvm.js and `npm start` load this module): runs main with the command line and
// exits with its code. main.ts holds the commands, so that code can run a command line without ending a process
// (the docs test runs the documented commands that way). Entry point: this module's top level.
import { main } from './main.ts';

// Output piped into a reader that stops early (`grantvm inspect | head`) ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv.slice(2));
