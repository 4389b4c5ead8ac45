// Sharding a campaign (src/sim/model/campaign.ts): run i belongs to shard i mod N and keeps the run seed it has in
// the whole campaign, so the shards' summaries merged equal the unsharded summary, failures included (in run order).
import { describe, expect, it } from 'vitest';
import { mergeSummaries, runCampaign } from '../../../src/sim/model/campaign.ts';
import type { CampaignOptions, CampaignSummary } from '../../../src/sim/model/campaign.ts';

const RUNS = 5;
const campaign = (o: Partial<CampaignOptions>): Promise<CampaignSummary> =>
  runCampaign({
    seed: 3,
    commandsPerRun: 6,
    everyStep: false,
    shrinkBudget: 0,
    more: (run) => run < RUNS,
    ...o,
  });

describe('campaign shards', () => {
  it('two shards merged equal the whole campaign', async () => {
    const whole = await campaign({});
    const a = await campaign({ shard: { index: 0, count: 2 } });
    const b = await campaign({ shard: { index: 1, count: 2 } });
    expect(a.runs).toBe(3);
    expect(b.runs).toBe(2);
    expect(mergeSummaries([b, a])).toEqual(whole);
    expect(whole.runs).toBe(RUNS);
    expect(whole.commands).toBe(RUNS * 6);
  });

  it('a merge keeps failures in run order', () => {
    const failure = (run: number): CampaignSummary['failures'][number] => ({
      kind: 'leak',
      run,
      runSeed: run * 7,
      message: `leak ${run}`,
      commands: [],
      config: {},
    });
    const m = mergeSummaries([
      {
        runs: 2,
        commands: 10,
        checks: 4,
        checksByKind: { incremental: 3, full: 1, grant: 4, ds: 4 },
        failures: [failure(3), failure(5)],
        coverage: { 'grant OK': 2 },
      },
      {
        runs: 1,
        commands: 5,
        checks: 3,
        checksByKind: { incremental: 1, full: 1, grant: 3, ds: 3 },
        failures: [failure(0)],
        coverage: { 'grant OK': 1, 'copy EPERM': 1 },
      },
    ]);
    expect(m.failures.map((f) => f.run)).toEqual([0, 3, 5]);
    expect([m.runs, m.commands, m.checks]).toEqual([3, 15, 7]);
    expect(m.checksByKind).toEqual({ incremental: 4, full: 2, grant: 7, ds: 7 });
    expect(m.coverage).toEqual({ 'copy EPERM': 1, 'grant OK': 3 });
  });
});
