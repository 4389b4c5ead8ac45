// kernelCallList and vmCallList: the PrivSpec call numbers of call constants, and a RangeError for anything else.
import { describe, expect, it } from 'vitest';
import {
  KERNEL_CALL,
  NR_SYS_CALLS,
  SYS_PRIVCTL,
  SYS_SAFECOPYFROM,
  SYS_SAFEUNMAP,
  VM_CTL,
  VM_MMAP,
  VM_MUNMAP,
  VM_RQ_BASE,
} from '../../../src/include/com.ts';
import { USER_PRIV_SPEC, kernelCallList, vmCallList } from '../../../src/include/priv.ts';

describe('kernelCallList / vmCallList', () => {
  it('give the numbers a PrivSpec holds, in the order given', () => {
    expect(kernelCallList(SYS_SAFECOPYFROM, SYS_PRIVCTL, SYS_SAFEUNMAP)).toEqual([31, 4, 49]);
    expect(kernelCallList()).toEqual([]);
    // The user privileges' VM calls are mmap, munmap and munmap_text.
    expect(vmCallList(VM_MMAP, VM_MUNMAP, VM_RQ_BASE + 19)).toEqual(USER_PRIV_SPEC.vmCalls);
    expect(vmCallList(VM_CTL)).toEqual([40]);
  });

  it('reject a number that is no call of their kind', () => {
    expect(() => kernelCallList(31)).toThrow(RangeError);
    expect(() => kernelCallList(KERNEL_CALL + NR_SYS_CALLS)).toThrow(/not a kernel call/);
    expect(() => kernelCallList(KERNEL_CALL - 1)).toThrow(RangeError);
    expect(() => vmCallList(SYS_SAFECOPYFROM)).toThrow(/not a VM call/);
    expect(() => vmCallList(VM_MMAP + 0.5)).toThrow(RangeError);
  });
});
