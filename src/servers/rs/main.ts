// Models a small Reincarnation Server (servers/rs): starts services from a record (label, program, privileges,
// restart policy) — fork with RS as the parent, sys_privctl SET_SYS, VM_RS_SET_PRIV, the label published in DS
// (DSF_OVERWRITE) before the service runs, then ALLOW — restarts services that die by a signal under the same
// label, and takes services down for good (ds_delete_label). Entry points: createRs, RsRequest, ServiceRecord,
// RsState, serviceInfo.
// DIVERGES: the host asks for RS_UP/RS_DOWN through a host-side queue and a notification (as init's spawn
// queue); a service runs its program in the forked child (no exec); there is no heartbeat and no backoff. Only
// RS_DOWN deletes a label: a service that exits normally, or that is given up after maxRestarts restarts, keeps
// its (stale) label and its DS data, as in MINIX, until it is taken down or started again under that label.
import { NOTIFY_MESSAGE, SYS_PRIVCTL, SYS_PRIV_ALLOW, SYS_PRIV_SET_SYS, VM_RS_SET_PRIV } from '../../include/com.ts';
import { DSF_OVERWRITE } from '../../include/ds.ts';
import { ANY, VM_PROC_NR, endpointSlot } from '../../include/endpoint.ts';
import { EEXIST, ESRCH, OK, SIGKILL, errnoName } from '../../include/errno.ts';
import type { PrivSpec } from '../../include/priv.ts';
import type { TraceSink } from '../../include/trace.ts';
import { dsDeleteLabel, dsPublishLabel } from '../../libsys/ds.ts';
import type { Program, Proc } from '../../libsys/proc.ts';

/** How RS treats a service that dies by a signal: restart it under the same label, up to a limit. */
export interface RestartPolicy {
  /** Restarts after deaths by a signal; one more death gives the service up. */
  maxRestarts: number;
}

/** What RS starts a service from (System.startService): label, program, privileges and restart policy. */
export interface ServiceRecord {
  /** The service's name: RS publishes it in DS as a label bound to the service's endpoint. */
  label: string;
  /** The code the service runs. */
  program: Program;
  /** Its privileges: IPC targets, kernel calls, VM calls, physical ranges. */
  priv: PrivSpec;
  /** What RS does when it dies by a signal. */
  restart: RestartPolicy;
}

/** What a service can learn about itself (p.state('rs')): its label and how many times it was restarted. */
export interface ServiceInfo {
  /** The label RS started it under (published in DS). */
  label: string;
  /** How many times RS restarted the service before this instance: 0 for the first start. */
  restarts: number;
}

/**
 * What a service knows of itself: the label and restart count RS gave this process, or null if RS did not start
 * it. A restarted service uses it to tell a fresh start from a recovery, e.g. `serviceInfo(p)?.restarts`.
 */
export function serviceInfo(p: Proc): ServiceInfo | null {
  return p.state<ServiceInfo | null>('rs', () => null);
}

/** A host request: RS_UP (start a service) or RS_DOWN (take one down for good). */
export type RsRequest =
  | { op: 'up'; service: ServiceRecord; done?: (result: number, endpoint: number) => void }
  | { op: 'down'; label: string; done?: (result: number) => void };

/** A service's state in RS: running; exited (by itself); failed (RS gave it up); down (taken down with RS_DOWN). */
export type ServiceStatus = 'running' | 'exited' | 'failed' | 'down';

/** RS's record of one service (rproc). */
export interface RProc {
  /** What RS started it from. */
  readonly record: ServiceRecord;
  /** The endpoint of its current (or last) instance. */
  endpoint: number;
  /** Running, exited, failed (given up) or down. */
  status: ServiceStatus;
  /** How many times RS has restarted it. */
  restarts: number;
  /** Every death, in order. */
  deaths: {
    /** The endpoint of the instance that died. */
    endpoint: number;
    /** Its exit status (0 when killed). */
    code: number;
    /** The signal that killed it, or 0 when it exited. */
    signal: number;
  }[];
}

/** RS as the host sees it (System.rs): its service records and its log. */
export interface RsState {
  /** Every service RS has started, by label. */
  readonly services: ReadonlyMap<string, Readonly<RProc>>;
  /** Human-readable reports: starts, restarts, warnings, give-ups. */
  readonly log: readonly string[];
}

export function createRs(queue: RsRequest[], trace: TraceSink | null = null): { program: Program; state: RsState } {
  const services = new Map<string, RProc>();
  const log: string[] = [];
  return { program: (p) => new RsServer(p, queue, services, log, trace).run(), state: { services, log } };
}

class RsServer {
  constructor(
    private readonly p: Proc,
    private readonly queue: RsRequest[],
    private readonly services: Map<string, RProc>,
    private readonly log: string[],
    private readonly trace: TraceSink | null,
  ) {}

  async run(): Promise<never> {
    for (;;) {
      const m = await this.p.receive(ANY);
      if (m.type !== NOTIFY_MESSAGE) continue;
      await this.reap();
      for (const req of this.queue.splice(0)) {
        if (req.op === 'up') {
          const r = await this.up(req.service);
          // Stryker disable next-line UnaryOperator: up() puts the label in the table before it returns: the lookup never fails
          req.done?.(r, this.services.get(req.service.label)?.endpoint ?? -1);
        } else {
          const r = await this.down(req.label);
          req.done?.(r);
        }
      }
    }
  }

  private report(s: string): void {
    this.log.push(s);
  }

  /** RS_UP: a new service under a label not in use. */
  private async up(record: ServiceRecord): Promise<number> {
    const old = this.services.get(record.label);
    if (old !== undefined && old.status === 'running') {
      this.report(`rs: up ${record.label}: already running as ${old.endpoint}`);
      return EEXIST;
    }
    const rp: RProc = { record, endpoint: -1, status: 'running', restarts: 0, deaths: [] };
    this.services.set(record.label, rp);
    return this.start(rp);
  }

  /** fork, privileges, VM call mask, the label in DS, then let it run. */
  private async start(rp: RProc): Promise<number> {
    const { label, program, priv } = rp.record;
    const info: ServiceInfo = { label, restarts: rp.restarts };
    const child = await this.p.fork(async (c) => {
      c.state<ServiceInfo | null>('rs', () => ({ ...info }));
      return program(c);
    }, label);
    if (child < 0) return this.giveUp(rp, `fork failed (${errnoName(child)})`, child);
    rp.endpoint = child;
    const sys = await this.p.kernelCall({ type: SYS_PRIVCTL, endpoint: child, request: SYS_PRIV_SET_SYS, priv });
    // Stryker disable next-line BlockStatement: SET_SYS fails only for an endpoint not live; RS calls it right after PM's fork reply, before PM can end the child
    if (sys.type !== OK) {
      await this.p.kill(child, SIGKILL);
      // Stryker disable next-line StringLiteral: never reached (below)
      return this.giveUp(rp, `privctl SET_SYS failed (${errnoName(sys.type)})`, sys.type);
    }
    const vm = await this.p.sendrec(VM_PROC_NR, { type: VM_RS_SET_PRIV, slot: endpointSlot(child), mask: priv.vmCalls, physRanges: priv.physRanges });
    // Stryker disable next-line StringLiteral: VM refuses VM_RS_SET_PRIV only for a bad slot or call mask; RS sends its new child's slot and the record's typed mask
    if (vm.type !== OK) this.report(`rs: warning: VM_RS_SET_PRIV for ${label} failed (${errnoName(vm.type)})`);
    const ds = await dsPublishLabel(this.p, label, child, DSF_OVERWRITE);
    if (ds !== OK) this.report(`rs: warning: publishing label ${label} in DS failed (${errnoName(ds)})`);
    await this.p.kernelCall({ type: SYS_PRIVCTL, endpoint: child, request: SYS_PRIV_ALLOW });
    this.report(rp.restarts === 0 ? `rs: ${label} up as ${child}` : `rs: ${label} restarted as ${child} (restart ${rp.restarts})`);
    if (rp.restarts > 0 && this.trace !== null) {
      this.trace({ step: this.p.kernel.step, kind: 'proc', op: 'restart', ep: child, name: label, parent: this.p.endpoint });
    }
    return OK;
  }

  private giveUp(rp: RProc, why: string, result: number): number {
    rp.status = 'failed';
    this.report(`rs: giving up on ${rp.record.label}: ${why}`);
    return result;
  }

  /** RS_DOWN: stop the service for good and delete its label (DS purges what it owned). */
  private async down(label: string): Promise<number> {
    const rp = this.services.get(label);
    if (rp === undefined) return ESRCH;
    const wasRunning = rp.status === 'running';
    rp.status = 'down';
    if (wasRunning) await this.p.kill(rp.endpoint, SIGKILL);
    const r = await dsDeleteLabel(this.p, label);
    this.report(`rs: ${label} down${r === OK ? '' : ` (ds_delete_label: ${errnoName(r)})`}`);
    return OK;
  }

  /** PM told us a child ended: collect every zombie and restart or retire its service. */
  private async reap(): Promise<void> {
    for (;;) {
      const w = await this.p.wait({ nohang: true });
      if (w.endpoint < 0) return;
      const rp = [...this.services.values()].find((s) => s.endpoint === w.endpoint);
      if (rp === undefined) continue;
      rp.deaths.push({ endpoint: w.endpoint, code: w.code, signal: w.signal });
      if (rp.status !== 'running') continue;
      if (w.signal === 0) {
        rp.status = 'exited';
        this.report(`rs: ${rp.record.label} exited with status ${w.code}`);
        continue;
      }
      if (rp.restarts >= rp.record.restart.maxRestarts) {
        this.giveUp(rp, `died by signal ${w.signal} after ${rp.restarts} restarts (maxRestarts ${rp.record.restart.maxRestarts})`, OK);
        continue;
      }
      rp.restarts++;
      await this.start(rp);
    }
  }
}
