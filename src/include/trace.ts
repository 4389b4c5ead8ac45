// Typed trace events: every significant event of the model, numbered by the kernel's step counter.
// Entry points: TraceEvent, TraceSink. Producers: kernel (ipc, kcall, fault, vmreq, proc), servers (vm, ds).

/**
 * When an event happened in simulated time: cycles of the machine's counter (DESIGN.md §8). A system stamps every
 * event it emits; the trace hash leaves these fields out, so the hash is the same under every cost profile.
 */
export interface TraceTime {
  /** The cycle counter when the event was emitted. */
  t?: number;
  /** For 'kcall' and 'ipc' events: the cycle counter at the kernel entry the call or message began with. */
  t0?: number;
}

/**
 * One event of the model's trace, numbered by the kernel's step counter; `kind` selects the variant. Where events
 * go is `SystemConfig.trace`; `grantvm trace` prints them and {@link toJsonLines} writes one per line. Endpoints
 * are numbers ({@link Endpoint}); `result` fields are OK (0) or a negative errno. Every event also carries its
 * simulated time ({@link TraceTime}).
 */
export type TraceEvent = TraceTime &
  (
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A process lifecycle event. */
        kind: 'proc';
        /** Process started (boot or spawn), exited, killed by a signal, forked (this is the child), exec'd, or restarted by RS. */
        op: 'start' | 'exit' | 'kill' | 'fork' | 'exec' | 'restart';
        /** The process's endpoint (for 'fork', the child's; for 'restart', the new instance's). */
        ep: number;
        /** The process's name (for 'restart', the service label). */
        name: string;
        /** For 'exit' the exit code, for 'kill' the signal number. */
        status?: number;
        /** For 'start', 'fork' and 'restart': the parent's endpoint (NONE when started without one; RS for a restart). */
        parent?: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A message passed by the kernel's IPC. */
        kind: 'ipc';
        /** 'send', 'notify', 'senda': the kernel delivered, queued or refused a message; 'receive': a receiver took a queued message or notification. */
        op: 'send' | 'receive' | 'notify' | 'senda';
        /** Sender's endpoint. */
        from: number;
        /** Receiver's endpoint. */
        to: number;
        /** The message's `type` (NOTIFY_MESSAGE for a notification). */
        mtype: number;
        /** OK, or the error the sender got (e.g. ECALLDENIED, ENOTREADY, ELOCKED, EDEADSRCDST). */
        result: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A kernel call that has completed. */
        kind: 'kcall';
        /** Endpoint of the process that made the call. */
        caller: number;
        /** The call's name, e.g. 'SYS_SAFECOPYFROM' (`KCALL_n` for an unknown number). */
        call: string;
        /** The reply's type: OK or a negative errno. */
        result: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A page fault a process took; VM handles it (vm.md §4, §8.1). */
        kind: 'fault';
        /** Endpoint of the faulting process. */
        ep: number;
        /** The faulting virtual address (bytes). */
        vaddr: number;
        /** The access was a write. */
        write: boolean;
        /** The page was mapped (a protection fault, e.g. a write to a copy-on-write page) rather than not present. */
        present: boolean;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A kernel memory request to VM (vm.md §7): a safecopy or safemap needs the target's pages checked (CHECK), COW-shared (COWMAP), mapped (SMAP) or unmapped (SUNMAP). */
        kind: 'vmreq';
        /** 'post' when the kernel queues the request and suspends the requestor; 'reply' when VM answers it. */
        op: 'post' | 'reply';
        /** Endpoint of the process whose kernel call is waiting for VM. */
        requestor: number;
        /** The request type (VMPTYPE_*). */
        reqType: number;
        /** Endpoint of the process whose memory VM must prepare. */
        target: number;
        /** On 'reply': VM's result, OK or a negative errno. */
        result?: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A signal raised by the kernel for a process (cause_sig); PM handles it. */
        kind: 'signal';
        /** Endpoint of the signalled process. */
        ep: number;
        /** The signal number, e.g. SIGSEGV. */
        sig: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened (0 for a VM running without a kernel view). */
        step: number;
        /** A VM server operation. */
        kind: 'vm';
        /** 'pagefault', 'memreq', 'mmap', 'munmap', 'brk', 'fork', 'exec', 'exit', 'alloc' (a new block: on demand, preallocated or a physical mapping) or 'cow-break' (a shared block, or with cowBreak 'page' the written part of it, copied for one process). */
        op: string;
        /** Endpoint of the process whose address space is affected (for 'fork', the parent). */
        ep: number;
        /** Virtual address concerned, in bytes (for 'mmap', the mapped address or the error). */
        vaddr?: number;
        /** Number of pages concerned (4096 bytes each); for 'cow-break', the pages copied. */
        pages?: number;
        /** OK or a negative errno; for 'fork', the child's endpoint. */
        result?: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A grant kernel call (grants.md §5–6). */
        kind: 'grant';
        /** 'setgrant', 'safecopyfrom', 'safecopyto', 'vsafecopy' (one per element), 'safemap', 'saferevmap_gid', 'saferevmap_addr' or 'safeunmap'. */
        op: string;
        /** Endpoint of the process that made the call. */
        caller: number;
        /** Endpoint of the grant's owner (NONE for safeunmap). */
        granter: number;
        /** The grant id (GRANT_INVALID where the call names none); for setgrant, the number of table entries. */
        gid: number;
        /** OK or a negative errno. */
        result: number;
      }
    | {
        /** Kernel step at which DS handled the request. */
        step: number;
        /** A request DS has handled (ds.md §6). */
        kind: 'ds';
        /** 'publish', 'retrieve', 'subscribe', 'check', 'delete', 'snapshot', 'retrieve_label' or 'getsysinfo'. */
        op: string;
        /** Endpoint of the requesting process. */
        caller: number;
        /** The key the request concerned ('' when none). */
        key: string;
        /** DS's reply: OK or a negative errno. */
        result: number;
      }
    | {
        /** Kernel step (kernel entries so far) at which the event happened. */
        step: number;
        /** A kernel panic (a broken invariant: the run stops), or a program that threw (its process gets SIGABRT). */
        kind: 'panic';
        /** The panic's text; for a program that threw, its process name and the error. */
        message: string;
      }
  );

/** The `kind` of a {@link TraceEvent}: which part of the model emitted it. */
export type TraceKind = TraceEvent['kind'];

/** Where trace events go. The host passes one in; core code never writes to a console or file. */
export type TraceSink = (event: TraceEvent) => void;
