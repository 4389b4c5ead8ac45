// `grantvm ARGS...` through the test host (cli-host.ts): sends the command line and this working directory to the
// host process at $GRANTVM_HOST_SOCKET, prints the command's stdout and stderr and exits with its code. Plain
// JavaScript with no imports beyond node:net, so that it starts in tens of milliseconds.
import { connect } from 'node:net';

const conn = connect(process.env.GRANTVM_HOST_SOCKET ?? '');
let text = '';
conn.setEncoding('utf8');
conn.on('data', (chunk) => {
  text += chunk;
});
conn.on('end', () => {
  const r = JSON.parse(text);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.status ?? 1;
});
conn.on('error', (err) => {
  process.stderr.write(`grantvm test host: ${err.message}\n`);
  process.exitCode = 1;
});
const share = process.env.GRANTVM_HOST_SHARE === '1';
conn.write(`${JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), share })}\n`);
