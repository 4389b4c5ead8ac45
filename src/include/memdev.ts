// The memory driver's devices as a client names them (include/minix/dmap.h minors, sys/ioc_memory.h) and the
// I/O vector of DEV_GATHER_S / DEV_SCATTER_S (minix/type.h iovec_s_t). Entry points: the constants below,
// IOVEC_ENTRY_BYTES.

/** /dev/ram: the original RAM disk (set up by MIOCRAMSIZE). */
export const RAM_DEV_OLD = 0;
/** /dev/mem: physical memory, from address 0 to the end of RAM. */
export const MEM_DEV = 1;
/** /dev/kmem: the kernel image. */
export const KMEM_DEV = 2;
/** /dev/null: reads end at once, writes are swallowed. */
export const NULL_DEV = 3;
/** /dev/boot: the boot device (no image in grantvm: EIO). */
export const BOOT_DEV = 4;
/** /dev/zero: reads give zero bytes, writes are swallowed. */
export const ZERO_DEV = 5;
/** /dev/imgrd: the boot image RAM disk (no image in grantvm: EIO). */
export const IMGRD_DEV = 6;
/** /dev/ram0 … /dev/ram5: RAM disks 7 to 12 (set up by MIOCRAMSIZE). */
export const RAM_DEV_FIRST = 7;
/** Number of /dev/ramN disks after RAM_DEV_FIRST. */
export const RAMDISKS = 6;
/** Minor devices 0 … NR_DEVS-1. */
export const NR_DEVS = 7 + RAMDISKS;

/** ioctl: set a RAM disk's size; the argument is a little-endian u32 of bytes (_IOW('m', 3, u32_t)). */
export const MIOCRAMSIZE = 0x40046d03;

/** At most this many I/O vector entries are used per request (NR_IOREQS). */
export const NR_IOREQS = 64;
/** One I/O vector entry: the grant id (i32), then the size in bytes (u32), little-endian. */
export const IOVEC_ENTRY_BYTES = 8;
