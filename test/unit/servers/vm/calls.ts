// Helpers of the VM edge tests that call handlers directly: a request message, a reply's result and fields, and
// the trace's VM events of one operation.
import { makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import type { VmReply } from '../../../../src/servers/vm/glo.ts';
import type { UnitVm } from './helpers.ts';

/** A request from slot 1 with the given fields. */
export const msg = (fields: Record<string, unknown>): Message => ({
  type: 0,
  source: makeEndpoint(0, 1),
  ...fields,
});

/** A handler's result code. */
export const res = (r: VmReply): number => (typeof r === 'number' ? r : r.result);

/** A reply field, undefined for a bare result code. */
export const field = (r: VmReply, f: string): unknown => (typeof r === 'number' ? undefined : r[f]);

/** From now on, the VM trace events of operation `op`, in order. */
export function traced(u: UnitVm, op: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  u.vm.trace = (e) => {
    if (e.kind === 'vm' && e.op === op) out.push(e);
  };
  return out;
}
