// The tutorial's grantor/requestor pair (docs/tutorial.md walks through it). Run it with
//
//   npx grantvm run examples/tutorial/grant-pair.ts -v
//
// Two system services, started through RS as MINIX starts its drivers and servers:
//  - the *requestor* subscribes to the DS key `tutorial.grant` and waits;
//  - the *grantor* writes a message into a buffer, grants the requestor READ access to it with
//    cpf_grant_direct, and publishes the grant id in DS under `tutorial.grant`;
//  - DS notifies the requestor, which reads the id (ds_check, ds_retrieve_u32), copies the message out of the
//    grantor's memory with sys_safecopyfrom, checks it, and tells the grantor it is done;
//  - the grantor revokes the grant; both exit with status 0.
// In a project that installed grantvm, import from 'grantvm' instead of '../../src/index.ts'.
import {
  CPF_READ,
  DS_PROC_NR,
  DSF_INITIAL,
  MAP_ANON,
  MAP_PRIVATE,
  OK,
  dsCheck,
  dsPublishU32,
  dsRetrieveU32,
  dsSubscribe,
  errnoName,
  peerByLabel,
  startTestService,
  vmMmap,
} from '../../src/index.ts';
import type { Program, Scenario, ScenarioOutput } from '../../src/index.ts';

const KEY = 'tutorial.grant';
const MESSAGE = 'hello from the grantor, through a memory grant';
/** The requestor's "I am done" message type (a private message type of this example). */
const DONE = 0x7f10;

function grantor(out: ScenarioOutput): Program {
  return async (p) => {
    // RS published every service's label in DS before starting it: that is how the two find each other.
    const requestor = await peerByLabel(p, 'requestor');
    const buf = await vmMmap(p, 0, 4096, MAP_ANON | MAP_PRIVATE);
    if (buf < 0) return 1;
    const bytes = new TextEncoder().encode(MESSAGE);
    await p.write(buf, bytes);

    // The grant: the requestor may READ bytes [buf, buf + length) of this process.
    const g = await p.cpf.grantDirect(requestor, buf, bytes.length, CPF_READ);
    if (!out.check('grantor: cpf_grant_direct', g.errno === OK, errnoName(g.errno))) return 1;
    // Publish the id; DS notifies every subscriber whose pattern matches the key.
    out.expectResult(`grantor: ds_publish_u32 ${KEY}`, await dsPublishU32(p, KEY, g.id), OK);

    const m = await p.receive(requestor);
    if (m.type !== DONE) return 1;
    out.expectResult('grantor: cpf_revoke', await p.cpf.revoke(g.id), OK);
    return 0;
  };
}

function requestor(out: ScenarioOutput): Program {
  return async (p) => {
    out.expectResult(`requestor: ds_subscribe ${KEY}`, await dsSubscribe(p, KEY, DSF_INITIAL), OK);
    // Wait for DS's notification, then ask DS which key changed and read it.
    let gid = -1;
    while (gid < 0) {
      const m = await p.receive();
      if (m.source !== DS_PROC_NR) continue;
      const c = await dsCheck(p);
      if (c.result !== OK || c.key !== KEY) continue;
      const r = await dsRetrieveU32(p, KEY);
      if (r.result === OK) gid = r.value;
    }
    const granter = await peerByLabel(p, 'grantor');
    const buf = await vmMmap(p, 0, 4096, MAP_ANON | MAP_PRIVATE);
    if (buf < 0) return 1;

    // The copy: the kernel checks the grant (valid, ours, READ, in range) and copies grantor → us.
    const length = new TextEncoder().encode(MESSAGE).length;
    out.expectResult('requestor: sys_safecopyfrom', await p.sys.safecopyFrom(granter, gid, 0, buf, length), OK);
    const text = new TextDecoder().decode(await p.read(buf, length));
    out.check('requestor: the message arrived', text === MESSAGE, JSON.stringify(text));

    return (await p.send(granter, { type: DONE })) === OK ? 0 : 1;
  };
}

export const scenario: Scenario = {
  name: 'grant-pair',
  title: 'a grantor publishes a grant id in DS; a requestor safecopies through it',
  config: { sanity: 'top' },
  async run(sys, out) {
    const r = await startTestService(sys, 'requestor', requestor(out));
    const g = await startTestService(sys, 'grantor', grantor(out));
    out.line(`requestor at endpoint ${r}, grantor at endpoint ${g}`);
    await sys.run();
    for (const label of ['grantor', 'requestor']) {
      const d = sys.rs.services.get(label)?.deaths[0];
      out.check(`${label} exited with status 0`, d?.code === 0 && d.signal === 0, d === undefined ? 'still running' : JSON.stringify(d));
    }
  },
};
