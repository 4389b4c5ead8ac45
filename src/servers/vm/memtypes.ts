// Models the region kinds of VM (MINIX's later memtype.h): anonymous, truly shared and direct (device) memory,
// as one strategy record each, chosen from a region's flags. Entry points: memtypeOf, MemType.
// Adding a region kind adds one record here; region code asks the record instead of testing flags.
import { VR_DIRECT, VR_SHARED } from '../../include/vm.ts';

export interface MemType {
  readonly name: 'anon' | 'shared' | 'direct';
  /** Every reference is writable whatever the sharing (WRITABLE rule's first case). */
  readonly alwaysWritable: boolean;
  /** May take page faults (demand-zero, COW break); a fault in another kind is a VM bug. */
  readonly faults: boolean;
  /** Owns its frames: they go back to the pool with the last reference. */
  readonly ownsMemory: boolean;
  /** handleMemory must fill holes and break sharing in it. */
  readonly populate: boolean;
  /** What a forked child gets for a private parent reference: the same block ('share' keeps it writable) or COW. */
  readonly fork: 'share' | 'cow';
  /** May be the destination of a COWMAP by reference (otherwise the byte-copy fallback). */
  readonly cowmapDestination: boolean;
  /** A source block in this kind is copied for a COWMAP destination instead of being COW-shared. */
  readonly cowmapCopiesSource: boolean;
  /** Counts towards COW sharing (D12: COW-shared = ≥ 2 private references from such regions). */
  readonly cowSharable: boolean;
  /** May be the destination of a safemap. */
  readonly smapDestination: boolean;
}

const ANON: MemType = {
  name: 'anon',
  alwaysWritable: false,
  faults: true,
  ownsMemory: true,
  populate: true,
  fork: 'cow',
  cowmapDestination: true,
  cowmapCopiesSource: false,
  cowSharable: true,
  smapDestination: true,
};

const SHARED: MemType = {
  name: 'shared',
  alwaysWritable: true,
  faults: false,
  ownsMemory: true,
  populate: true,
  fork: 'share',
  cowmapDestination: false,
  cowmapCopiesSource: true,
  cowSharable: false,
  smapDestination: false,
};

const DIRECT: MemType = {
  name: 'direct',
  alwaysWritable: true,
  faults: false,
  ownsMemory: false,
  populate: false,
  fork: 'share',
  cowmapDestination: false,
  cowmapCopiesSource: true,
  cowSharable: false,
  smapDestination: false,
};

export function memtypeOf(flags: number): MemType {
  if ((flags & VR_DIRECT) !== 0) return DIRECT;
  if ((flags & VR_SHARED) !== 0) return SHARED;
  return ANON;
}
