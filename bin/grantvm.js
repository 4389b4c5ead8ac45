#!/usr/bin/env node
// The grantvm command. A source checkout runs src/ through tsx (so a stale dist/ left by `npm run build` or
// `npm pack` never hides an edit); the installed package, which has no src/, runs the built dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/entry.ts', import.meta.url));
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(new URL('../dist/src/cli/entry.js', import.meta.url).href);
}
