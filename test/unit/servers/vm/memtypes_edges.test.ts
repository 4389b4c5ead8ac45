// The region kinds of VM (src/servers/vm/memtypes.ts): which kind a region's flags select (DIRECT before SHARED
// before anonymous) and what each kind allows, as the model's rules state them (writability, faults, ownership of
// frames, filling, fork, COWMAP, COW sharing, safemap).
import { describe, expect, it } from 'vitest';
import { VR_ANON, VR_DIRECT, VR_LOWER16MB, VR_SHARED, VR_WRITABLE } from '../../../../src/include/vm.ts';
import { memtypeOf } from '../../../../src/servers/vm/memtypes.ts';

describe('VM region kinds', () => {
  it('DIRECT wins over SHARED, which wins over anonymous; other flags do not matter', () => {
    expect(memtypeOf(VR_DIRECT | VR_SHARED | VR_ANON).name).toBe('direct');
    expect(memtypeOf(VR_SHARED | VR_ANON | VR_WRITABLE).name).toBe('shared');
    expect(memtypeOf(VR_ANON | VR_WRITABLE | VR_LOWER16MB).name).toBe('anon');
    expect(memtypeOf(0).name).toBe('anon');
  });

  it('each kind states its rules', () => {
    const rules = (flags: number): Record<string, unknown> => {
      const rest: Record<string, unknown> = { ...memtypeOf(flags) };
      delete rest.name;
      return rest;
    };
    expect(rules(VR_ANON)).toEqual({
      alwaysWritable: false,
      faults: true,
      ownsMemory: true,
      populate: true,
      fork: 'cow',
      cowmapDestination: true,
      cowmapCopiesSource: false,
      cowSharable: true,
      smapDestination: true,
    });
    expect(rules(VR_SHARED)).toEqual({
      alwaysWritable: true,
      faults: false,
      ownsMemory: true,
      populate: true,
      fork: 'share',
      cowmapDestination: false,
      cowmapCopiesSource: true,
      cowSharable: false,
      smapDestination: false,
    });
    expect(rules(VR_DIRECT)).toEqual({
      alwaysWritable: true,
      faults: false,
      ownsMemory: false,
      populate: false,
      fork: 'share',
      cowmapDestination: false,
      cowmapCopiesSource: true,
      cowSharable: false,
      smapDestination: false,
    });
  });
});
