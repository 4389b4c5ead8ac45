// Models the machine's physical RAM: 4 KiB frames in lazily allocated ArrayBuffer chunks (DESIGN.md §3).
// Entry points: PhysMem (read/write/copy/zero/poison, readU32/writeU32, pteRead/pteWrite/frameWords/frameWordsForWrite/
// clearWords for table walks, watchFrame/tableWrites for caches of walks).
// DIVERGES: untouched RAM reads as zero and costs no host memory; access outside RAM panics (no bus error). The
// machine's cycle counter rides along (`clock`) so that every layer that reaches memory can charge its time.
import { assert, panic } from '../lib/assert.ts';
import { CycleClock } from './clock.ts';
import { defaultProfile } from './profile.ts';
import {
  ADDRESS_SPACE_BYTES,
  MiB,
  PAGE_MASK as UNITS_PAGE_MASK,
  PAGE_SHIFT as UNITS_PAGE_SHIFT,
  PAGE_SIZE as UNITS_PAGE_SIZE,
} from '../lib/units.ts';

// Module-level copies for the hot paths: a transpiled import (CJS, vitest) is a getter call on every read.
const PAGE_SIZE = UNITS_PAGE_SIZE;
const PAGE_MASK = UNITS_PAGE_MASK;
const PAGE_SHIFT = UNITS_PAGE_SHIFT;

/** The byte sanity mode writes over freed frames (xv6's kfree junk, MINIX's poisoning). */
export const POISON_BYTE = 0xdb;

/** Largest chunk we allocate as one ArrayBuffer. */
const MAX_CHUNK_BYTES = 1024 * MiB;
/** u32 entries per page-table frame. */
const ENTRIES_PER_TABLE = PAGE_SIZE / 4;

/** Page tables are little-endian u32 words read through Uint32Array views: the host must match. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Panics unless [offset, offset+length) lies inside `buf`: a host-side buffer, not simulated RAM. */
function checkHostBuffer(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!(
    Number.isInteger(offset) &&
    Number.isInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= buf.length
  )) {
    panic(`physmem ${what}: host buffer range [${offset}, +${length}) outside buffer of ${buf.length} bytes`);
  }
}

export class PhysMem {
  readonly ramBytes: number;
  readonly nFrames: number;
  readonly chunkBytes: number;
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  private readonly framesPerChunkShift: number;
  private readonly framesPerChunkMask: number;
  /** Byte view of each chunk; undefined until the chunk is first written. */
  private readonly u8s: Array<Uint8Array | undefined>;
  /** u32 view over the same buffer, for entries and readU32/writeU32. */
  private readonly u32s: Array<Uint32Array | undefined>;
  /** The chunk's ArrayBuffer: `new Uint8Array(buf, off, n)` from a held buffer is the cheapest view V8 makes. */
  private readonly bufs: Array<ArrayBuffer | undefined>;
  /** Per chunk, lazily made 4 KiB views of its frames: a whole-page read then allocates nothing. */
  private readonly frameViews: Array<Array<Uint8Array | undefined> | undefined>;
  /** Per chunk, lazily made u32 views of its frames (frameWords). */
  private readonly frameWordViews: Array<Array<Uint32Array | undefined> | undefined>;
  private allocated = 0;
  /** Per frame, 1 when a cache of walks (mmu.ts WalkCache) holds answers read from it. */
  private readonly watched: Uint8Array;
  /**
   * Writes so far to watched frames (any method: a PTE, a word, a copy, a zero fill): a cache of walks is valid
   * while this count stays what it was when the cache read its answers. Read-only outside PhysMem.
   */
  tableWrites = 0;
  /** The machine's cycle counter (DESIGN.md §8): the kernel, the MMU and the servers charge their work to it. */
  readonly clock: CycleClock;

  constructor(ramBytes: number, options?: { chunkBytes?: number; clock?: CycleClock }) {
    // Stryker disable next-line StringLiteral: the message of an assert that never fires on a little-endian host
    assert(HOST_IS_LITTLE_ENDIAN, 'physmem: host is not little-endian; page-table words would be misread');
    assert(
      Number.isInteger(ramBytes) &&
        ramBytes > 0 &&
        ramBytes % PAGE_SIZE === 0 &&
        ramBytes <= ADDRESS_SPACE_BYTES,
      () => `physmem: ramBytes ${ramBytes} must be a positive multiple of ${PAGE_SIZE} of at most 4 GiB`,
    );
    const chunkBytes = options?.chunkBytes ?? MiB;
    assert(
      Number.isInteger(chunkBytes) &&
        chunkBytes >= PAGE_SIZE &&
        chunkBytes <= MAX_CHUNK_BYTES &&
        (chunkBytes & (chunkBytes - 1)) === 0,
      () =>
        `physmem: chunkBytes ${chunkBytes} must be a power of two between ${PAGE_SIZE} and ${MAX_CHUNK_BYTES}`,
    );
    this.clock = options?.clock ?? new CycleClock(defaultProfile);
    this.ramBytes = ramBytes;
    this.nFrames = ramBytes / PAGE_SIZE;
    this.chunkBytes = chunkBytes;
    this.chunkShift = Math.log2(chunkBytes);
    this.chunkMask = chunkBytes - 1;
    this.framesPerChunkShift = this.chunkShift - PAGE_SHIFT;
    this.framesPerChunkMask = (1 << this.framesPerChunkShift) - 1;
    const nChunks = Math.ceil(ramBytes / chunkBytes);
    this.u8s = new Array<Uint8Array | undefined>(nChunks).fill(undefined);
    // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
    this.u32s = new Array<Uint32Array | undefined>(nChunks).fill(undefined);
    // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
    this.bufs = new Array<ArrayBuffer | undefined>(nChunks).fill(undefined);
    // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
    this.frameViews = new Array<Array<Uint8Array | undefined> | undefined>(nChunks).fill(undefined);
    // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
    this.frameWordViews = new Array<Array<Uint32Array | undefined> | undefined>(nChunks).fill(undefined);
    this.watched = new Uint8Array(this.nFrames);
  }

  /** Watches frame `frameNo`: from now on every write to it counts in `tableWrites` (a WalkCache read it). */
  watchFrame(frameNo: number): void {
    this.watched[frameNo] = 1;
  }

  /** Counts a write to [pa, pa+length) in `tableWrites` if it touches a watched frame. The range is in RAM. */
  private noteWrite(pa: number, length: number): void {
    if (length === 0) return;
    const last = (pa + length - 1) >>> PAGE_SHIFT;
    for (let f = pa >>> PAGE_SHIFT; f <= last; f++) {
      if (this.watched[f] !== 0) {
        this.tableWrites++;
        return;
      }
    }
  }

  /** Host bytes held by the chunks allocated so far. */
  hostBytesAllocated(): number {
    return this.allocated;
  }

  readU32(pa: number): number {
    // The aligned in-RAM word (every caller's case) passes with three comparisons; anything else is checked in full.
    if (pa >>> 0 !== pa || (pa & 3) !== 0 || pa + 4 > this.ramBytes) this.checkWord(pa, 'readU32');
    const u32 = this.u32s[pa >>> this.chunkShift];
    return u32 === undefined ? 0 : (u32[(pa & this.chunkMask) >>> 2] ?? 0);
  }

  writeU32(pa: number, v: number): void {
    this.checkWord(pa, 'writeU32');
    this.noteWrite(pa, 4);
    this.chunk32(pa >>> this.chunkShift)[(pa & this.chunkMask) >>> 2] = v;
  }

  /** Copies RAM [pa, pa+length) into dst[dstOffset...]; may span chunks. One TypedArray set per chunk span. */
  read(pa: number, dst: Uint8Array, dstOffset: number, length: number): void {
    this.checkRange(pa, length, 'read');
    checkHostBuffer(dst, dstOffset, length, 'read');
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = a & this.chunkMask;
      const n = Math.min(length - done, this.chunkBytes - off);
      const c = a >>> this.chunkShift;
      const buf = this.bufs[c];
      if (buf === undefined) dst.fill(0, dstOffset + done, dstOffset + done + n);
      else if (n === PAGE_SIZE && (off & PAGE_MASK) === 0)
        dst.set(this.frameView(c, buf, off), dstOffset + done);
      else dst.set(new Uint8Array(buf, off, n), dstOffset + done);
      done += n;
    }
  }

  /** Copies src[srcOffset, +length) into RAM at pa; may span chunks. One TypedArray set per chunk span. */
  write(pa: number, src: Uint8Array, srcOffset: number, length: number): void {
    this.checkRange(pa, length, 'write');
    checkHostBuffer(src, srcOffset, length, 'write');
    this.noteWrite(pa, length);
    const off = pa & this.chunkMask;
    // Stryker disable next-line BlockStatement: the fast path emptied falls through to writeSpans, which writes the same bytes
    if (srcOffset === 0 && length === src.length && length > 0 && off + length <= this.chunkBytes) {
      // The whole source into one chunk (a page-sized write): no view at all.
      this.chunk8(pa >>> this.chunkShift).set(src, off);
      return;
    }
    this.writeSpans(pa, src.buffer, src.byteOffset + srcOffset, length);
  }

  /**
   * write() for the MMU's page loop: the source is given as its ArrayBuffer and byte offset, so the caller reads
   * the (slow) `.buffer` getter once per access instead of once per page. The caller has bounds-checked the source.
   */
  writeFromBuffer(pa: number, src: ArrayBufferLike, srcByteOffset: number, length: number): void {
    this.checkRange(pa, length, 'write');
    this.noteWrite(pa, length);
    this.writeSpans(pa, src, srcByteOffset, length);
  }

  private writeSpans(pa: number, src: ArrayBufferLike, srcByteOffset: number, length: number): void {
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = a & this.chunkMask;
      const n = Math.min(length - done, this.chunkBytes - off);
      this.chunk8(a >>> this.chunkShift).set(new Uint8Array(src, srcByteOffset + done, n), off);
      done += n;
    }
  }

  /** memmove within RAM: overlap-safe, one copyWithin/set per chunk span. */
  copy(dstPa: number, srcPa: number, length: number): void {
    if (!(dstPa >>> 0 === dstPa && srcPa >>> 0 === srcPa && length >>> 0 === length && dstPa + length <= this.ramBytes && srcPa + length <= this.ramBytes)) {
      this.checkRange(dstPa, length, 'copy destination');
      this.checkRange(srcPa, length, 'copy source');
    }
    if (length === 0 || dstPa === srcPa) return;
    this.noteWrite(dstPa, length);
    if (dstPa < srcPa) {
      let done = 0;
      while (done < length) done += this.copySpan(dstPa + done, srcPa + done, length - done, false);
    } else {
      // Destination above source: copy from the top down so no source byte is overwritten before it is read.
      let left = length;
      while (left > 0) left -= this.copySpan(dstPa + left, srcPa + left, left, true);
    }
  }

  /** Zeroes [pa, pa+length); chunks never written stay unallocated (they already read as zero). */
  zero(pa: number, length: number): void {
    this.checkRange(pa, length, 'zero');
    this.noteWrite(pa, length);
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = a & this.chunkMask;
      const n = Math.min(length - done, this.chunkBytes - off);
      this.u8s[a >>> this.chunkShift]?.fill(0, off, off + n);
      done += n;
    }
  }

  /** Fills [pa, pa+length) with POISON_BYTE (sanity mode marks freed frames this way). */
  poison(pa: number, length: number): void {
    this.checkRange(pa, length, 'poison');
    this.noteWrite(pa, length);
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = a & this.chunkMask;
      const n = Math.min(length - done, this.chunkBytes - off);
      this.chunk8(a >>> this.chunkShift).fill(POISON_BYTE, off, off + n);
      done += n;
    }
  }

  /** True when every byte of [pa, pa+length) is POISON_BYTE. A scan, not a copy: used by sanity checks and tests. */
  isPoisoned(pa: number, length: number): boolean {
    this.checkRange(pa, length, 'isPoisoned');
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = a & this.chunkMask;
      const n = Math.min(length - done, this.chunkBytes - off);
      const c = a >>> this.chunkShift;
      const u8 = this.u8s[c];
      const u32 = this.u32s[c];
      if (u8 === undefined || u32 === undefined || !spanIsPoisoned(u8, u32, off, n)) return false;
      done += n;
    }
    return true;
  }

  /** u32 entry `index` (0..1023) of frame `frameNo`: the hot path of page-table walks. */
  pteRead(frameNo: number, index: number): number {
    if (frameNo >>> 0 !== frameNo || frameNo >= this.nFrames || (index & 0x3ff) !== index)
      this.badEntry(frameNo, index, 'pteRead');
    const u32 = this.u32s[frameNo >>> this.framesPerChunkShift];
    return u32 === undefined ? 0 : (u32[((frameNo & this.framesPerChunkMask) << 10) | index] ?? 0);
  }

  /**
   * The 1024 u32 words of frame `frameNo` as a cached view into RAM, for loops over a page table or a grant
   * table that would otherwise call pteRead/readU32 per word; null while the frame's chunk was never written
   * (it reads as zero). Read-only: a write through it would go unseen by `tableWrites` (use frameWordsForWrite).
   * Not to be kept: a later write may allocate the chunk.
   */
  frameWords(frameNo: number): Uint32Array | null {
    if (frameNo >>> 0 !== frameNo || frameNo >= this.nFrames) this.badEntry(frameNo, 0, 'frameWords');
    const c = frameNo >>> this.framesPerChunkShift;
    if (this.bufs[c] === undefined) return null;
    return this.frameWordViews[c]?.[frameNo & this.framesPerChunkMask] ?? this.makeFrameView(frameNo);
  }

  /**
   * frameWords' first use of a frame of an allocated chunk: the view is made and kept. Apart from frameWords, so
   * that the hot lookup stays small enough for V8 to inline into the table walks.
   */
  private makeFrameView(frameNo: number): Uint32Array {
    const c = frameNo >>> this.framesPerChunkShift;
    const buf = this.bufs[c];
    // Stryker disable next-line StringLiteral: the message of an assert that never fires: frameWords calls makeFrameView only for an allocated chunk
    assert(buf !== undefined, 'physmem: view of a frame of an unallocated chunk');
    let views = this.frameWordViews[c];
    if (views === undefined) {
      // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
      views = new Array<Uint32Array | undefined>(1 << this.framesPerChunkShift).fill(undefined);
      this.frameWordViews[c] = views;
    }
    const i = frameNo & this.framesPerChunkMask;
    const v = new Uint32Array(buf, i * PAGE_SIZE, ENTRIES_PER_TABLE);
    views[i] = v;
    return v;
  }

  /**
   * frameWords for writing runs of words (page-table entries): the frame's chunk is allocated if it was never
   * written, so the view is never null. Not to be kept across other PhysMem calls.
   */
  frameWordsForWrite(frameNo: number): Uint32Array {
    if (this.watched[frameNo] !== 0) this.tableWrites++;
    // Runs of one-page blocks (fork) write one table again and again: the last view is kept. A view stays
    // valid for good, since a chunk, once allocated, is never replaced.
    if (frameNo === this.lastWriteFrame) return this.lastWriteWords;
    let v = this.frameWords(frameNo);
    if (v === null) {
      this.chunk32(frameNo >>> this.framesPerChunkShift);
      v = this.frameWords(frameNo);
      // Stryker disable next-line StringLiteral: the message of an assert that never fires: chunk32 has just allocated the chunk
      assert(v !== null, 'physmem: frame has no view after allocation');
    }
    this.lastWriteFrame = frameNo;
    this.lastWriteWords = v;
    return v;
  }

  /** Zeroes words [from, to) of frame `frameNo` (page-table entries); a frame never written already reads as zero. */
  clearWords(frameNo: number, from: number, to: number): void {
    const words = this.frameWords(frameNo);
    if (words === null) return;
    if (this.watched[frameNo] !== 0) this.tableWrites++;
    words.fill(0, from, to);
  }

  /** frameWordsForWrite's last frame and its view (-1: none yet). */
  private lastWriteFrame = -1;
  private lastWriteWords: Uint32Array = new Uint32Array(0);

  pteWrite(frameNo: number, index: number, v: number): void {
    if (frameNo >>> 0 !== frameNo || frameNo >= this.nFrames || (index & 0x3ff) !== index)
      this.badEntry(frameNo, index, 'pteWrite');
    if (this.watched[frameNo] !== 0) this.tableWrites++;
    const c = frameNo >>> this.framesPerChunkShift;
    const u32 = this.u32s[c] ?? this.chunk32(c);
    u32[((frameNo & this.framesPerChunkMask) << 10) | index] = v;
  }

  /**
   * Copies one span that stays inside one source chunk and one destination chunk; returns its length.
   * Forward: the span starts at dst/src. Backward: the span ends at dst/src (exclusive) and is at most `max` long.
   */
  private copySpan(dst: number, src: number, max: number, backward: boolean): number {
    let n: number;
    if (backward) {
      n = Math.min(max, ((dst - 1) & this.chunkMask) + 1, ((src - 1) & this.chunkMask) + 1);
      dst -= n;
      src -= n;
    } else {
      n = Math.min(max, this.chunkBytes - (dst & this.chunkMask), this.chunkBytes - (src & this.chunkMask));
    }
    const dc = dst >>> this.chunkShift;
    const sc = src >>> this.chunkShift;
    const doff = dst & this.chunkMask;
    const soff = src & this.chunkMask;
    const from = this.u8s[sc];
    const fromBuf = this.bufs[sc];
    if (from === undefined || fromBuf === undefined) {
      this.u8s[dc]?.fill(0, doff, doff + n);
    } else if (dc === sc) {
      from.copyWithin(doff, soff, soff + n);
    } else if (n === PAGE_SIZE && (soff & PAGE_MASK) === 0) {
      // A whole source frame (the pages of a large safecopy on scattered frames): its cached view, no new one.
      this.chunk8(dc).set(this.frameView(sc, fromBuf, soff), doff);
    } else {
      this.chunk8(dc).set(this.spanView(sc, fromBuf, soff, n), doff);
    }
    return n;
  }

  /** The last part-frame source copied across chunks, and its chunk: a copy that repeats makes no new view. */
  private lastSpan = new Uint8Array(0);
  // Stryker disable next-line UnaryOperator: the first span view is empty: its length never equals a span of n > 0 bytes, whatever the chunk
  private lastSpanChunk = -1;

  /** A view of `n` bytes at offset `off` of chunk c (buffer `buf`): the last one again when it is the same span. */
  private spanView(c: number, buf: ArrayBuffer, off: number, n: number): Uint8Array {
    const v = this.lastSpan;
    if (c === this.lastSpanChunk && v.byteOffset === off && v.length === n) return v;
    const fresh = new Uint8Array(buf, off, n);
    this.lastSpan = fresh;
    this.lastSpanChunk = c;
    return fresh;
  }

  /** The cached view of the frame at offset `off` (page-aligned) of chunk c. */
  private frameView(c: number, buf: ArrayBuffer, off: number): Uint8Array {
    let views = this.frameViews[c];
    if (views === undefined) {
      // Stryker disable next-line ArrayDeclaration: an empty array reads undefined at every index, as one filled with undefined does, and grows when written
      views = new Array<Uint8Array | undefined>(buf.byteLength / PAGE_SIZE).fill(undefined);
      this.frameViews[c] = views;
    }
    let v = views[off >>> PAGE_SHIFT];
    if (v === undefined) {
      v = new Uint8Array(buf, off, PAGE_SIZE);
      views[off >>> PAGE_SHIFT] = v;
    }
    return v;
  }

  /** The byte view of chunk c, allocating the chunk on first use. */
  private chunk8(c: number): Uint8Array {
    const u8 = this.u8s[c];
    return u8 === undefined ? this.allocChunk(c) : u8;
  }

  private chunk32(c: number): Uint32Array {
    const u32 = this.u32s[c];
    if (u32 !== undefined) return u32;
    this.allocChunk(c);
    const fresh = this.u32s[c];
    // Stryker disable next-line StringLiteral: the message of an assert that never fires: allocChunk sets the u32 view
    assert(fresh !== undefined, () => `physmem: chunk ${c} has no u32 view after allocation`);
    return fresh;
  }

  private allocChunk(c: number): Uint8Array {
    assert(
      // Stryker disable next-line LogicalOperator: the callers allocate only a chunk in range that is not allocated: every part of the assert holds
      c >= 0 && c < this.u8s.length && this.u8s[c] === undefined,
      // Stryker disable next-line StringLiteral: the message of an assert that never fires (the callers allocate only a chunk in range that is not allocated)
      () => `physmem: bad chunk allocation ${c}`,
    );
    const bytes = Math.min(this.chunkBytes, this.ramBytes - c * this.chunkBytes);
    const buf = new ArrayBuffer(bytes);
    const u8 = new Uint8Array(buf);
    this.u8s[c] = u8;
    this.u32s[c] = new Uint32Array(buf);
    this.bufs[c] = buf;
    this.allocated += bytes;
    return u8;
  }

  private checkRange(pa: number, length: number, what: string): void {
    if (!(
      Number.isInteger(pa) &&
      Number.isInteger(length) &&
      pa >= 0 &&
      length >= 0 &&
      pa + length <= this.ramBytes
    )) {
      panic(
        `physmem ${what}: physical range ${hex(pa)} +${length} bytes outside RAM [0, ${hex(this.ramBytes)})`,
      );
    }
  }

  private checkWord(pa: number, what: string): void {
    this.checkRange(pa, 4, what);
    if (pa % 4 !== 0) panic(`physmem ${what}: physical address ${hex(pa)} not 4-byte aligned`);
  }

  private badEntry(frameNo: number, index: number, what: string): never {
    return panic(
      `physmem ${what}: entry ${index} of frame ${frameNo} (physical ${hex(frameNo * PAGE_SIZE + index * 4)}) ` +
        `outside RAM or table (${this.nFrames} frames, ${ENTRIES_PER_TABLE} entries)`,
    );
  }
}

const POISON_WORD = POISON_BYTE * 0x01010101;

/** Byte scan of the unaligned edges, word scan of the aligned middle. */
function spanIsPoisoned(u8: Uint8Array, u32: Uint32Array, off: number, n: number): boolean {
  const end = off + n;
  let i = off;
  for (; i < end && (i & 3) !== 0; i++) if (u8[i] !== POISON_BYTE) return false;
  const wordEnd = end & ~3;
  for (let w = i >>> 2; w < wordEnd >>> 2; w++) if (u32[w] !== POISON_WORD) return false;
  for (i = Math.max(i, wordEnd); i < end; i++) if (u8[i] !== POISON_BYTE) return false;
  return true;
}
