// Models the Data Store server process (servers/ds/main.c): boot labels, then a loop that receives a request,
// runs it on the store and answers with a blocking send echoing the request. DS memory (MEM copies, MAP windows,
// snapshots, a key scratch page) is anonymous mmap in DS's own address space; keys and values move through the
// clients' grants (safecopy, safemap). Entry points: createDs, DsState, DsServerConfig, ProcDsMemory.
// DIVERGES: notifications are never answered and otherwise ignored: PM ends DS itself on SIGTERM (grantvm's PM
// has no signal sets to query).
import { K } from '../../hw/profile.ts';
import { NOTIFY_MESSAGE } from '../../include/com.ts';
import { ANY } from '../../include/endpoint.ts';
import type { Endpoint } from '../../include/endpoint.ts';
import { OK } from '../../include/errno.ts';
import type { Payload } from '../../include/ipc.ts';
import { CPF_MAP, CPF_READ } from '../../include/safecopies.ts';
import type { TraceSink } from '../../include/trace.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE, roundUpPage } from '../../lib/units.ts';
import {
  cpfGrantDirect,
  cpfRevoke,
  sysSafecopyFrom,
  sysSafecopyTo,
  sysSafemap,
  sysSaferevmapAddr,
  sysSafeunmap,
} from '../../libsys/grant.ts';
import type { Program, Proc } from '../../libsys/proc.ts';
import { vmMmap, vmMunmap } from '../../libsys/vm.ts';
import { DsStore } from './store.ts';
import type { DsConfig, DsEntryInfo, DsMemory, DsSubscriptionInfo } from './store.ts';

export interface DsServerConfig extends DsConfig {
  /** Run the §9 checks after every request (tests). */
  sanity?: boolean;
  trace?: TraceSink | null;
}

/** A boot service DS labels at start (RS's boot table). */
export interface DsBootLabel {
  label: string;
  endpoint: number;
}

/** The host's view of DS: its tables and checker. */
/** DS as the host sees it (System.ds): its entries and subscriptions, its sanity check. */
export interface DsState {
  /** DS's store itself (for the model's own tests). @internal */
  readonly store: DsStore;
  /** True once the boot labels are in. */
  readonly booted: boolean;
  /** True while DS is between receiving a request and replying: its tables are legitimately in flux. */
  readonly busy: boolean;
  /** Every published entry, by slot. */
  entries(): DsEntryInfo[];
  /** Every subscription, by slot, with its pending entry slots. */
  subscriptions(): DsSubscriptionInfo[];
  /** The §9 checks, at a point where DS waits for work (as MINIX checks at the top of its loop); no-op while busy. */
  sanityCheck(): void;
}

/** DsMemory over DS's own process: VM mmap for storage, the grant kernel calls for copies and mappings. */
export class ProcDsMemory implements DsMemory {
  private scratch = 0;
  private proc: Proc | null = null;

  /** The DS process: bound when its program starts (the store exists before, for the host to inspect). */
  bind(p: Proc): void {
    this.proc = p;
  }

  private get p(): Proc {
    assert(this.proc !== null, 'ds: store used before the DS process started');
    return this.proc;
  }

  /** One page for keys in transit (the store's key buffer and label names / keys going out). */
  private async scratchPage(): Promise<number> {
    if (this.scratch === 0) {
      const a = await vmMmap(this.p, 0, PAGE_SIZE, MAP_ANON | MAP_PRIVATE);
      assert(a > 0, () => `ds: no memory for the key scratch page (${a})`);
      this.scratch = a;
    }
    return this.scratch;
  }

  async fetch(ep: Endpoint, gid: number, len: number): Promise<Uint8Array | number> {
    const s = await this.scratchPage();
    const r = await sysSafecopyFrom(this.p, ep, gid, 0, s, len);
    return r === OK ? this.p.read(s, len) : r;
  }

  async deliver(ep: Endpoint, gid: number, bytes: Uint8Array): Promise<number> {
    const s = await this.scratchPage();
    await this.p.write(s, bytes);
    return sysSafecopyTo(this.p, ep, gid, 0, s, bytes.length);
  }

  alloc(len: number): Promise<number> {
    return vmMmap(this.p, 0, roundUpPage(len), MAP_ANON | MAP_PRIVATE);
  }

  async free(addr: number, len: number): Promise<void> {
    const r = await vmMunmap(this.p, addr, roundUpPage(len));
    assert(r === OK, () => `ds: munmap of its own 0x${addr.toString(16)} failed (${r})`);
  }

  copyIn(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    return sysSafecopyFrom(this.p, ep, gid, 0, addr, len);
  }

  copyOut(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    return sysSafecopyTo(this.p, ep, gid, 0, addr, len);
  }

  async copyLocal(src: number, dst: number, len: number): Promise<void> {
    await this.p.write(dst, await this.p.read(src, len));
  }

  map(ep: Endpoint, gid: number, addr: number, len: number): Promise<number> {
    return sysSafemap(this.p, ep, gid, 0, addr, len, false);
  }

  unmap(addr: number): Promise<number> {
    return sysSafeunmap(this.p, addr);
  }

  revmapAddr(addr: number): Promise<number> {
    return sysSaferevmapAddr(this.p, addr);
  }

  async grantMap(to: Endpoint, addr: number, len: number): Promise<number> {
    const g = await cpfGrantDirect(this.p, to, addr, len, CPF_READ | CPF_MAP);
    return g.errno === OK ? g.id : g.errno;
  }

  revoke(gid: number): Promise<number> {
    return cpfRevoke(this.p, gid);
  }

  async notify(ep: Endpoint): Promise<void> {
    await this.p.notify(ep);
  }
}

export function createDs(config: DsServerConfig, bootLabels: readonly DsBootLabel[]): { program: Program; state: DsState } {
  const mem = new ProcDsMemory();
  const sink = config.trace ?? null;
  let step = (): number => 0;
  const store = new DsStore(
    { maxKeys: config.maxKeys, maxSubs: config.maxSubs, labelPolicy: config.labelPolicy },
    mem,
    sink === null
      ? null
      : (op, caller, key, result) => {
          sink({ step: step(), kind: 'ds', op, caller, key, result });
        },
  );
  let booted = false;
  let busy = false;
  const state: DsState = {
    store,
    get booted() {
      return booted;
    },
    get busy() {
      return busy;
    },
    entries: () => store.entries(),
    subscriptions: () => store.subscriptions(),
    sanityCheck: () => {
      if (!busy) store.sanityCheck();
    },
  };
  const program: Program = async (p) => {
    mem.bind(p);
    step = () => p.kernel.step;
    busy = true;
    await store.boot(bootLabels);
    booted = true;
    for (;;) {
      busy = false;
      const m = await p.receive(ANY);
      if (m.type === NOTIFY_MESSAGE) continue;
      busy = true;
      p.kernel.clock.charge(K.dsRequest);
      const reply = await store.handle(m);
      if (config.sanity === true) store.sanityCheck();
      const out: Payload = Object.assign({}, m, reply);
      await p.send(m.source, out);
    }
  };
  return { program, state };
}
