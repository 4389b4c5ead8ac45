// The command pages whose commands take longest (SLOW_PAGES: fuzz, faults, test) are run, so they cannot rot:
// every command of their sh blocks succeeds, in order, in one scratch directory per page. docs.test.ts runs the
// other pages the same way; the two files share the work of the docs between the two cores.
import { describe, expect, it } from 'vitest';
import { cliHost } from '../../helpers/cli-host.ts';
import { commands, pages, runAll, SLOW_PAGES } from '../../helpers/docs.ts';

const host = cliHost(true);

describe('docs/', () => {
  for (const name of SLOW_PAGES) {
    it(`every command of ${name} succeeds`, { timeout: 600_000 }, async () => {
      const lines = commands(pages.find((p) => p.name === name)?.text ?? '');
      expect(lines.length, `${name} has commands`).toBeGreaterThan(0);
      await runAll(host, lines);
    });
  }
});
