// A scenario file for the browser view (and `grantvm run examples/browser-scenario.mjs`): pick it with the
// view's "file" input. A module loaded in the browser cannot import the model's sources, so it uses only what
// reaches it: `sys` (spawn, run, inspect), `out` (check, line) and each program's Proc `p`.
//
// A process fills 4 pages of its heap, forks a child that writes one of them and reads another, and checks that
// its own copy kept its contents. The child's write is one copy-on-write break, and it copies all 4 pages: VM
// shares and copies memory a block at a time, and exec allocated the 4 data pages as one block (the statistics
// show 1 COW break, 4 pages copied).
const HEAP = 0x19004000; // VM_PROCSTART + 4 pages of text: the default image's data/heap region
const PAGE = 4096;

export const scenario = {
  name: 'fork-touch',
  title: 'a process fills 4 heap pages, forks; the child writes one page (COW break) and reads another',
  config: { sanity: 'top' },
  async run(sys, out) {
    const h = sys.spawn(
      async (p) => {
        for (let i = 0; i < 4; i++) await p.writeU8(HEAP + i * PAGE, 1 + i);
        const child = await p.fork(async (c) => {
          await c.writeU8(HEAP, 99);
          return (await c.readU8(HEAP + PAGE)) === 2 ? 0 : 1;
        }, 'toucher');
        const w = await p.wait();
        const mine = await p.readU8(HEAP);
        return w.endpoint === child && w.code === 0 && mine === 1 ? 0 : 1;
      },
      { name: 'forker' },
    );
    await sys.run();
    out.check('the child saw the shared page and the parent kept its own copy (exit 0)', h.exit?.code === 0 && h.exit.signal === 0, JSON.stringify(h.exit));
  },
};
