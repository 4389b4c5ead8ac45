// Detection tests for Slab.check() (src/servers/vm/slab.ts): for every rule in SLAB_CHECK_RULES, one crafted corruption
// of a valid slab that the check reports by that rule's name, inside the VM sanity rule it belongs to (G23; G24 for an
// object left open). The last test fails when a rule has no detection test.
import { Slab, SLAB_CHECK_RULES } from '../../../../src/servers/vm/slab.ts';
import type { SlabClass, SlabObj, SlabPage } from '../../../../src/servers/vm/slab.ts';
import { defaultVmConfig } from '../../../../src/servers/vm/glo.ts';
import { onFresh, ruleDetectionTests } from '../../../helpers/rules.ts';

type Rule = (typeof SLAB_CHECK_RULES)[number];

/** A class's state as the slab keeps it. */
interface Inside {
  classes: Record<
    SlabClass,
    { pages: SlabPage[]; lists: Record<'free' | 'used' | 'full', { size: number }>; live: number }
  >;
  nodeCount: number;
}

/** A valid slab, its internals, its region objects and their page. */
interface Valid {
  s: Slab;
  inside: Inside;
  objs: SlabObj[];
  regionPage: SlabPage;
}

/**
 * A valid slab: 3 regions (one page, on the USED list), one AVL node allocated (one page, USED) and two node pages
 * adopted (FREE list of two pages).
 */
function slabOf(): Valid {
  let next = 100;
  const s = new Slab({
    sanity: true,
    objectBytes: defaultVmConfig.slabObjectBytes,
    getPage: () => next++,
    shouldFail: () => false,
  });
  const objs: SlabObj[] = [];
  for (let i = 0; i < 3; i++) {
    const o = s.alloc('region', { _slab: null });
    if (o === null) throw new Error('ENOMEM');
    objs.push(o);
  }
  s.allocNode();
  s.adoptNodePage(200);
  s.adoptNodePage(201);
  s.check();
  const inside = s as unknown as Inside;
  const regionPage = inside.classes.region.pages[0];
  if (regionPage === undefined) throw new Error('no region page');
  return { s, inside, objs, regionPage };
}

/** The adopted node pages, on the avlNode FREE list in order. */
function freeNodePages(inside: Inside): [SlabPage, SlabPage] {
  const [a, b] = inside.classes.avlNode.pages.filter((p) => p.list === 'free');
  if (a === undefined || b === undefined) throw new Error('no two free node pages');
  return [a, b];
}

/** Each corruption: applied to a fresh valid slab (slabOf). */
const corruptions: Record<Rule, (v: Valid) => void> = {
  SLOT_OBJECT: ({ regionPage }) => {
    regionPage.objs[regionPage.objs.indexOf(null)] = {};
  },
  USED_COUNT: ({ regionPage }) => {
    regionPage.used += 1;
  },
  FREE_SLOTS: ({ regionPage }) => {
    regionPage.freeSlots.pop();
  },
  PAGE_LIST: ({ regionPage }) => {
    regionPage.list = 'full';
  },
  OPEN_OBJECT: ({ s, objs }) => {
    s.open(objs[1] as SlabObj);
  },
  LIVE_COUNT: ({ inside }) => {
    inside.classes.physBlock.live += 1;
  },
  LIST_LENGTH: ({ inside }) => {
    inside.classes.region.lists.used.size += 1;
  },
  LIST_LINKS: ({ inside }) => {
    freeNodePages(inside)[1].prev = null;
  },
  LISTED_PAGES: ({ inside }) => {
    // A page counted twice in the class: every page and every list is consistent, the lists hold one page less.
    inside.classes.avlNode.pages.push(freeNodePages(inside)[0]);
  },
  NODE_COUNT: ({ inside }) => {
    inside.nodeCount--;
  },
  RESERVED_NODES: ({ s }) => {
    if (!s.reserveNodes(2)) throw new Error('ENOMEM');
  },
};

ruleDetectionTests({
  title: 'slab check rules: each crafted corruption is reported by its rule',
  rules: SLAB_CHECK_RULES,
  start: (rule) => `VM sanity ${rule === 'OPEN_OBJECT' ? 'G24' : 'G23'}: slab ${rule}: `,
  named: /slab ([A-Z_]+):/g,
  corruptions: onFresh(slabOf, (v) => v.s.check(), corruptions),
});
