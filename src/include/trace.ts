// Typed trace events: every significant event of the model, numbered by the kernel's step counter.
// Entry points: TraceEvent, TraceSink. Producers: kernel (ipc, kcall, fault, vmreq, proc), servers (vm, ds).

export type TraceEvent =
  | { step: number; kind: 'proc'; op: 'start' | 'exit' | 'kill' | 'fork' | 'exec' | 'restart'; ep: number; name: string; status?: number; parent?: number }
  | { step: number; kind: 'ipc'; op: 'send' | 'receive' | 'notify' | 'senda'; from: number; to: number; mtype: number; result: number }
  | { step: number; kind: 'kcall'; caller: number; call: string; result: number }
  | { step: number; kind: 'fault'; ep: number; vaddr: number; write: boolean; present: boolean }
  | { step: number; kind: 'vmreq'; op: 'post' | 'reply'; requestor: number; reqType: number; target: number; result?: number }
  | { step: number; kind: 'signal'; ep: number; sig: number }
  | { step: number; kind: 'vm'; op: string; ep: number; vaddr?: number; pages?: number; result?: number }
  | { step: number; kind: 'grant'; op: string; caller: number; granter: number; gid: number; result: number }
  | { step: number; kind: 'ds'; op: string; caller: number; key: string; result: number }
  | { step: number; kind: 'panic'; message: string };

export type TraceKind = TraceEvent['kind'];

/** Where trace events go. The host passes one in; core code never writes to a console or file. */
export type TraceSink = (event: TraceEvent) => void;
