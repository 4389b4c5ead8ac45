// Sizes and a byte pattern for the tests that copy memory and compare what arrives with what was sent.
export const PAGE = 4096;
export const MiB = 1024 * 1024;

/** `n` bytes where neighbours differ and a copy to the wrong offset shows: byte i is (i * 7 + seed) & 0xff. */
export const pattern = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
