// Branded numbers (STYLE.md #6): the compiler keeps a Vaddr apart from a Paddr or an Endpoint.
// Entry point: Brand.

declare const brand: unique symbol;
/** A number that the compiler keeps apart from other numbers. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };
