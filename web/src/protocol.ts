// The messages between the page and the model's Web Worker. The worker sends compact state: the frame map
// as a transferred Uint32Array of frame codes (src/sim/inspect.ts FRAME), the rest as plain data.
import type { TraceEvent } from '../../src/include/trace.ts';
import type { SanityLevel } from '../../src/sim/config.ts';
import type { FrameMapping, Snapshot, addressSpaces } from '../../src/sim/inspect.ts';
import type { Check } from '../../src/sim/scenario.ts';
import type { EventKind, Position } from '../../src/sim/session.ts';

export interface ViewConfig {
  seed: number;
  memoryMiB: number;
  cowSafecopy: boolean;
  grantIds: 'generational' | 'legacy';
  sanity: SanityLevel;
  /** The cost model's machine profile: a built-in profile's name (src/hw/profile.ts builtinProfiles). */
  profile: string;
  /** How VM breaks copy-on-write sharing: the whole block (MINIX) or only the pages written (a what-if). */
  cowBreak: 'block' | 'page';
}

export type Request =
  /** Opens a scenario at its first stop, or at the stop `step` leads to (reopening with another config). */
  | { type: 'open'; scenario: string; config: ViewConfig; step?: number }
  | { type: 'load'; url: string; fileName: string; config: ViewConfig }
  | { type: 'goto'; step: number }
  | { type: 'next'; events: number }
  | { type: 'prev' }
  | { type: 'nextOf'; kind: EventKind }
  | { type: 'frame'; frame: number };

export interface Counters {
  /** The kernel step of the current position. */
  step: number;
  /** Simulated time so far, µs, under the profile. */
  micros: number;
  /** The cost profile's name. */
  profile: string;
  framesFree: number;
  framesUsed: number;
  faults: number;
  cowBreaks: number;
  copies: number;
  grantFailures: number;
}

export interface ViewState {
  position: Position;
  finalStep: number;
  replays: number;
  /** Milliseconds the worker took to reach this position (a replay when stepping back). */
  tookMs: number;
  processes: Snapshot['processes'];
  spaces: ReturnType<typeof addressSpaces>;
  grants: Snapshot['grants'];
  mappings: Snapshot['mappings'];
  ds: Snapshot['ds'];
  counters: Counters;
  /** The profile's clock rate (cycles per µs), to turn the events' cycle stamps into µs. */
  clockMHz: number;
  /** (granter, gid) pairs used in the trace so far and no longer in their owner's table, with the last result. */
  staleGrants: { granter: number; gid: number; caller: number; result: number }[];
}

export type Reply =
  | { type: 'scenarios'; list: { name: string; title: string }[] }
  | {
      type: 'opened';
      scenario: string;
      title: string;
      totalEvents: number;
      finalStep: number;
      checks: Check[];
      error: string | null;
      listMs: number;
    }
  | { type: 'events'; from: number; events: TraceEvent[] }
  | { type: 'state'; state: ViewState; frames: Uint32Array }
  | { type: 'mappings'; frame: number; list: FrameMapping[] }
  | { type: 'busy'; what: string; cancel?: boolean }
  /** Every checkpoint below the current step is ready: a step back from here replays at most one interval. */
  | { type: 'prepared'; step: number }
  | { type: 'error'; message: string };

/** Events are sent to the page in chunks of this many. */
export const EVENT_CHUNK = 20_000;
