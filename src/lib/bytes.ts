// Comparing and hashing byte arrays a 32-bit word at a time (the model tester compares and hashes hundreds of KiB
// per command; a byte loop or a findIndex closure costs several times more). Entry points: firstDifference, hashWords.

/** 32-bit words over `a` where its offset allows (a multiple of 4), else null. */
const words = (a: Uint8Array): Int32Array | null =>
  a.byteOffset % 4 === 0 ? new Int32Array(a.buffer, a.byteOffset, a.length >>> 2) : null;

/** The index of the first byte where `a` and `b` differ (a shorter array differs at its end), or -1 if equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  const wa = words(a);
  const wb = words(b);
  if (wa !== null && wb !== null) {
    const nw = n >>> 2;
    let w = 0;
    while (w < nw && wa[w] === wb[w]) w++;
    i = w << 2;
  }
  while (i < n && a[i] === b[i]) i++;
  return i < n || a.length === b.length ? (i < n ? i : -1) : n;
}

/**
 * An FNV-style 32-bit hash of `bytes` folded into `h`, a word at a time (the tail byte by byte); the same for any
 * view of the same bytes (an unaligned view is copied first).
 */
export function hashWords(bytes: Uint8Array, h: number): number {
  let x = h >>> 0;
  const w = words(bytes) ?? new Int32Array(bytes.slice().buffer, 0, bytes.length >>> 2);
  for (const v of w) x = Math.imul(x ^ v, 0x01000193) >>> 0;
  for (let i = w.length << 2; i < bytes.length; i++) x = Math.imul(x ^ (bytes[i] ?? 0), 0x01000193) >>> 0;
  return x;
}
