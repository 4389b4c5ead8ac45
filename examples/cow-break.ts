// The copy-on-write break, MINIX's way and the what-if way: run it with
//
//   npx grantvm run examples/cow-break.ts -v                       (MINIX: the whole block is copied)
//   npx grantvm run examples/cow-break.ts -v --cow-break page      (what-if: only the written page)
//   npx grantvm compare examples/cow-break.ts --a cowBreak=block --b cowBreak=page
//
// A user program whose data segment is 16 pages, allocated at exec as one physical block, forks. The child writes
// one byte in page 5 of the data and exits; the parent waits, then checks that its own data is unchanged. With
// cowBreak 'block' the child's write copies the whole 16-page block; with 'page' it copies one page. What the
// programs see is the same either way; the frames, the pages copied and the simulated time are not.
// In a project that installed grantvm, import from 'grantvm' instead of '../src/index.ts'.
import { VM_PROCSTART } from '../src/index.ts';
import type { Scenario } from '../src/index.ts';

const PAGE = 4096;
const TEXT = 4 * PAGE;
const DATA_PAGES = 16;
const DATA = VM_PROCSTART + TEXT;
const TOUCHED = DATA + 5 * PAGE + 123;

export const scenario: Scenario = {
  name: 'cow-break',
  title: 'a 16-page data block shared by fork; the child writes one byte of it',
  config: { sanity: 'functions' },
  async run(sys, out) {
    const before = { breaks: sys.vm.counts.cowBreaks, pages: sys.vm.counts.cowPagesCopied };
    const h = sys.spawn(
      async (p) => {
        await p.writeU8(TOUCHED, 1);
        await p.fork(async (c) => {
          await c.writeU8(TOUCHED, 2); // the copy-on-write break
          return (await c.readU8(TOUCHED)) === 2 ? 0 : 1;
        }, 'cow-child');
        const w = await p.wait();
        return w.code === 0 && (await p.readU8(TOUCHED)) === 1 ? 0 : 1;
      },
      { name: 'cow-parent', image: { text: TEXT, data: DATA_PAGES * PAGE } },
    );
    await sys.run();
    out.check('the child saw its own write and the parent kept its byte', h.exit?.code === 0 && h.exit.signal === 0, JSON.stringify(h.exit));
    const breaks = sys.vm.counts.cowBreaks - before.breaks;
    const pages = sys.vm.counts.cowPagesCopied - before.pages;
    out.line(`cowBreak '${sys.config.cowBreak}': ${breaks} COW break(s), ${pages} page(s) copied`);
    const expected = sys.config.cowBreak === 'page' ? 1 : DATA_PAGES;
    out.check(`the child's write copied ${expected} page(s) of the data block`, pages === expected, `${pages} pages copied in ${breaks} break(s)`);
    sys.sanityCheck();
  },
};
