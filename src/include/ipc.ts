// Messages (include/minix/ipc.h). A message is a typed record instead of MINIX's 36-byte union: `type` is
// m_type, `source` is filled in by the kernel, the other fields are named by the protocol that uses them.
// DIVERGES: fields may hold model-only payloads (an exec image, a fork child's entry function).
import type { Endpoint } from './endpoint.ts';

/** What a process hands to send/sendrec/senda: m_type and named fields. */
export interface Payload {
  /** m_type: the request or notification number; in a reply, the result (OK or a negative errno). */
  type: number;
  [field: string]: unknown;
}

/** A delivered message: the payload plus the sender's endpoint, set by the kernel. */
export interface Message extends Payload {
  /** The sender's endpoint, set by the kernel (it cannot be forged). */
  source: Endpoint;
}

/** Reads a numeric field of a message, panicking-free: a missing or non-number field reads as NaN. */
export function numField(m: Payload, field: string): number {
  const v = m[field];
  return typeof v === 'number' ? v : Number.NaN;
}

/**
 * The kernel's copy of a message on delivery (MINIX copies the 36-byte message): the sender's fields plus
 * `source`. Object.assign, not spread: spread with an added key is an order of magnitude slower in V8.
 */
export function copyMessage(payload: Payload, source: Endpoint): Message {
  const m = Object.assign({}, payload) as Message;
  m.source = source;
  return m;
}
