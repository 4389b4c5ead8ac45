/**
 * The grantvm library: an executable model of the MINIX 3 memory-management subsystem (2009–2010) — memory
 * grants, safecopy with copy-on-write, safemap, the Data Store and the VM server — on a simulated i386-style
 * machine.
 *
 * Two APIs meet here:
 *
 * - the **host API**, used from outside the simulated machine: {@link createSystem} boots a {@link System}, on
 *   which you spawn programs, start services through RS, run, stop at a {@link Breakpoint}, kill, inspect
 *   ({@link Snapshot}), sanity-check and read the trace; {@link Scenario} and {@link runScenario} package such a
 *   piece of work the way `grantvm run FILE` runs it; {@link drivenActor} starts a process the host drives one
 *   action at a time, for step-by-step experiments, and {@link drivenVfs} drives VFS, whose magic grants the
 *   kernel honours;
 * - the **process API**, used by the code that runs inside it: a {@link Program} is an async function of its
 *   {@link Proc} (IPC, kernel calls, memory, fork/exec/exit/wait, `p.cpf` grants, `p.sys` grant kernel calls),
 *   plus the constants programs need (errno values, endpoints, CPF_* access flags, mmap flags, DS flags, kernel
 *   and VM call numbers) and the library calls of libsys (VM and DS requests, {@link sysPrivctl}, character device
 *   requests to the memory driver).
 *
 * @example
 * ```ts
 * import { createSystem } from 'grantvm';
 *
 * const sys = await createSystem({ seed: 1 });
 * const h = sys.spawn(async (p) => ((await p.getpid()).pid > 0 ? 0 : 1));
 * await sys.run();
 * console.log(h.exit); // { code: 0, signal: 0 }
 * ```
 * @packageDocumentation
 */

// ---------------------------------------------------------------- host API
export { createSystem, System, ConfigError, StepLimitError } from './sim/system.ts';
export type { Breakpoint, SpawnHandle, SpawnOptions } from './sim/system.ts';
export { defaultConfig, resolveConfig } from './sim/config.ts';
export type { SanityLevel, SystemConfig } from './sim/config.ts';
export type { RunResult, StopReason, KernelCounts } from './kernel/kernel.ts';
export { runScenario, scenarioPassed, ScenarioOutput } from './sim/scenario.ts';
export type { Check, Scenario, ScenarioHost, ScenarioResult } from './sim/scenario.ts';
export { builtinScenarios, findScenario, conformanceSuites } from './sim/scenarios.ts';
export { startTestService } from './sim/grantsuites.ts';
export { snapshot } from './sim/inspect.ts';
export type { Snapshot, ProcInfo, FrameUse, GrantInfo, Statistics } from './sim/inspect.ts';
export type { FrameInfo, FrameRef, FrameRun, VmSnapshot } from './servers/vm/state.ts';
export type { MapRecord } from './kernel/system/do_safemap.ts';
export { memoryPicture, PICTURE_LEGEND } from './sim/picture.ts';
export { toJsonLines, toChromeTrace, traceHash, trackOf } from './sim/trace.ts';
export type { ChromeTiming } from './sim/trace.ts';
export { TOPICS, findTopic, generateExercise, generateSheet } from './sim/exercise/registry.ts';
export { exerciseText, problemSheet, answerSheet, normaliseAnswer, checkAnswers } from './sim/exercise/render.ts';
export type { Exercise, Topic, Block, Question, Answer } from './sim/exercise/types.ts';
export type { Mark } from './sim/exercise/render.ts';
export type { TraceEvent, TraceKind, TraceSink, TraceTime } from './include/trace.ts';
export { CycleClock, KERNEL_KINDS } from './hw/clock.ts';
export { COST_KINDS, PROFILE_NUMBERS, builtinProfiles, defaultProfile, profileProblems } from './hw/profile.ts';
export type { CostKind, CostProfile, CycleKind } from './hw/profile.ts';
export { costFigures, timeReport } from './sim/cost.ts';
export type { CostFigures, TimeReport } from './sim/cost.ts';
export { safeperfCrossovers, crossoverLines } from './sim/crossover.ts';
export type { Crossovers } from './sim/crossover.ts';
export type { SafeperfArgs, SafeperfResult } from './user/safeperf.ts';
export type { ServiceRecord, RestartPolicy, RsState, RProc, ServiceStatus, ServiceInfo } from './servers/rs/main.ts';
export { serviceInfo } from './servers/rs/main.ts';
export type { VmState, ProcView, RegionView, RefView } from './servers/vm/state.ts';
export type { VmCounts } from './servers/vm/glo.ts';
export type { DsState } from './servers/ds/main.ts';
export type { DsEntryInfo, DsSubscriptionInfo } from './servers/ds/store.ts';
export type { PrivSpec } from './include/priv.ts';
export { DEFAULT_SERVICE_SPEC, USER_PRIV_SPEC, kernelCallList, vmCallList } from './include/priv.ts';
export { GRANT_TEST_PRIV, peerByLabel } from './user/safetest.ts';
export { Panic } from './lib/assert.ts';
export { drivenActor, drivenVfs, runStepwise } from './sim/driven.ts';
export type { Action, Driven, DrivenOptions, Pending } from './sim/driven.ts';

// ---------------------------------------------------------------- process API
export { Proc } from './libsys/proc.ts';
export type { Program, WaitResult } from './libsys/proc.ts';
export type { CpfApi, SysGrantApi, GrantResult, LookupResult } from './libsys/grant.ts';
export type { Message, Payload } from './include/ipc.ts';
export * from './libsys/vm.ts';
export * from './libsys/ds.ts';
export { sysPrivctl, releaseChild } from './libsys/privctl.ts';
export * from './libsys/chardev.ts';
export * from './include/memdev.ts';
export * from './include/errno.ts';
export {
  ANY,
  NONE,
  SELF,
  SYSTEM,
  KERNEL,
  PM_PROC_NR,
  RS_PROC_NR,
  DS_PROC_NR,
  VM_PROC_NR,
  MEM_PROC_NR,
  INIT_PROC_NR,
  endpointSlot,
  endpointGeneration,
} from './include/endpoint.ts';
export type { Endpoint } from './include/endpoint.ts';
export { CPF_READ, CPF_WRITE, CPF_MAP, GRANT_INVALID, encodeScpVector, SCPVEC_NR, SCPVEC_ELEMENT_BYTES } from './include/safecopies.ts';
export type { GrantId, ScpVecElement } from './include/safecopies.ts';
export {
  MAP_ANON,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_FIXED,
  MAP_PREALLOC,
  MAP_CONTIG,
  MAP_LOWER16M,
  MAP_LOWER1M,
  MAP_ALIGN64K,
  MAP_FAILED,
  PROT_READ,
  PROT_WRITE,
  VM_PROCSTART,
  VM_STACKTOP,
  MEM_HOLE_BASE,
  MEM_HOLE_END,
  VIDEO_MEM_BASE,
  VIDEO_MEM_BYTES,
} from './include/vm.ts';
export {
  NOTIFY_MESSAGE,
  KERNEL_CALL,
  NR_SYS_CALLS,
  kernelCallNames,
  SYS_FORK,
  SYS_EXEC,
  SYS_EXIT,
  SYS_PRIVCTL,
  SYS_KILL,
  SYS_GETKSIG,
  SYS_ENDKSIG,
  SYS_UMAP,
  SYS_VIRCOPY,
  SYS_SETALARM,
  SYS_TIMES,
  SYS_GETINFO,
  SYS_SAFECOPYFROM,
  SYS_SAFECOPYTO,
  SYS_VSAFECOPY,
  SYS_SETGRANT,
  SYS_VMCTL,
  SYS_SYSCTL,
  SYS_RUNCTL,
  SYS_SAFEMAP,
  SYS_SAFEREVMAP,
  SYS_SAFEUNMAP,
  SYS_PRIV_ALLOW,
  SYS_PRIV_DISALLOW,
  SYS_PRIV_SET_SYS,
  SYS_PRIV_SET_USER,
  VM_RQ_BASE,
  NR_VM_CALLS,
  VM_EXIT,
  VM_FORK,
  VM_BRK,
  VM_EXEC_NEWMEM,
  VM_PUSH_SIG,
  VM_WILLEXIT,
  VM_MMAP,
  VM_UMAP,
  VM_MAP_PHYS,
  VM_UNMAP_PHYS,
  VM_MUNMAP,
  VM_MUNMAP_TEXT,
  VM_REMAP,
  VM_SHM_UNMAP,
  VM_GETPHYS,
  VM_GETREF,
  VM_RS_SET_PRIV,
  VM_QUERY_EXIT,
  VM_NOTIFY_SIG,
  VM_CTL,
} from './include/com.ts';
export type { ExecImage } from './include/vm.ts';
export {
  DSF_OVERWRITE,
  DSF_INITIAL,
  DSF_PRIV_RETRIEVE,
  DSF_PRIV_OVERWRITE,
  DSF_PRIV_SUBSCRIBE,
  DSF_TYPE_U32,
  DSF_TYPE_STR,
  DSF_TYPE_MEM,
  DSF_TYPE_MAP,
  DSF_TYPE_LABEL,
  DSMF_MAP_MAPPED,
  DSMF_COPY_MAPPED,
  DSMF_COPY_SNAPSHOT,
} from './include/ds.ts';
