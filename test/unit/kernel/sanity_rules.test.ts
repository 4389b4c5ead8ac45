// Detection tests for the kernel's invariant checker (grantSanityCheck, src/kernel/system/do_safemap.ts): for every
// rule in KERNEL_SANITY_RULES, one crafted corruption of a valid kernel that the check reports by that rule's name.
// The last test fails when a rule has no detection test.
import { OK } from '../../../src/include/errno.ts';
import { CPF_MAP, CPF_READ, CPF_WRITE } from '../../../src/include/safecopies.ts';
import type { Kernel } from '../../../src/kernel/kernel.ts';
import { RTS } from '../../../src/kernel/proc.ts';
import {
  grantSanityCheck,
  KERNEL_SANITY_RULES,
  mapRecordTable,
} from '../../../src/kernel/system/do_safemap.ts';
import type { MapRecord } from '../../../src/kernel/system/do_safemap.ts';
import type { VmRequest } from '../../../src/kernel/vmrequest.ts';
import type { Actor } from '../../helpers/grantworld.ts';
import { grantWorld } from '../../helpers/grantworld.ts';
import { onFresh, ruleDetectionTests } from '../../helpers/rules.ts';

type Rule = (typeof KERNEL_SANITY_RULES)[number];

const PAGE = 4096;
const MAP_RW = CPF_READ | CPF_WRITE | CPF_MAP;

/** Granter G (slot 20) and grantee R (slot 21); G has granted R two pages for mapping. */
async function twoActors(withVm: boolean): Promise<{ k: Kernel; g: Actor; r: Actor; id: number }> {
  const w = grantWorld({ ramBytes: 16 * 1024 * 1024 });
  if (withVm) w.fakeVm(() => OK);
  const g = w.actor(20, 'G');
  const r = w.actor(21, 'R');
  const { id } = await g.do((p) => p.cpf.grantDirect(r.ep, g.base, 2 * PAGE, MAP_RW));
  return { k: w.k, g, r, id };
}

/** R has mapped G's two pages (a VM answered OK): one record. */
async function withRecord(): Promise<{ k: Kernel; record: MapRecord }> {
  const { k, g, r, id } = await twoActors(true);
  if ((await r.do((p) => p.sys.safemap(g.ep, id, 0, r.base, 2 * PAGE, true))) !== OK)
    throw new Error('safemap failed');
  const record = mapRecordTable(k)[0];
  if (record === undefined) throw new Error('no record');
  grantSanityCheck(k);
  return { k, record };
}

/** R's safemap waits for a VM that is not there: one outstanding SMAP request naming R and G. */
async function withRequest(): Promise<{ k: Kernel; g: Actor; r: Actor; request: VmRequest }> {
  const { k, g, r, id } = await twoActors(false);
  r.start((p) => p.sys.safemap(g.ep, id, 0, r.base, 2 * PAGE, true));
  await k.run();
  const request = k.vmRequests.waiting[0];
  if (request === undefined) throw new Error('no outstanding request');
  grantSanityCheck(k);
  return { k, g, r, request };
}

const check = (w: { k: Kernel }): void => {
  grantSanityCheck(w.k);
};

/** Each corruption: applied to a kernel with one mapping record, or with one outstanding VM request. */
const corruptions: Record<Rule, () => Promise<() => void>> = {
  ...onFresh(withRecord, check, {
    MAPINFO_LIMIT: ({ k }) => {
      (k.config as { maxMapInfo: number }).maxMapInfo = 0;
    },
    MAPINFO_LIVE: ({ record }) => {
      record.owner = 5000 as typeof record.owner; // an endpoint no process has
    },
    MAPINFO_DISTINCT: ({ record }) => {
      record.owner = record.grantee;
    },
    MAPINFO_ALIGNED: ({ record }) => {
      record.bytes = PAGE + 1;
    },
  }),
  ...onFresh(withRequest, check, {
    VMREQ_ONE: ({ k, request }) => {
      k.vmRequests.inProgress.set(request.requestor, { ...request });
    },
    VMREQ_BLOCKED: ({ r }) => {
      r.kp.rts &= ~RTS.VMREQUEST;
    },
    VMREQ_HOLDS: ({ g }) => {
      g.kp.vmHolds += 1;
    },
    GRANT_TABLE_OWNER: ({ g, r }) => {
      const t = g.kp.priv.grantTable;
      if (t === null) throw new Error('G has no grant table');
      g.kp.priv.grantTable = { ...t, registeredBy: r.ep };
    },
  }),
};

ruleDetectionTests({
  title: 'kernel sanity rules: each crafted corruption is reported by its rule',
  rules: KERNEL_SANITY_RULES,
  start: (rule) => `kernel sanity ${rule}: `,
  named: /kernel sanity ([A-Z_]+):/g,
  corruptions,
});
