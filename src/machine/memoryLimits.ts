// Guest RAM limits, in a module of their own so that the API side (src/vmm) can check a
// configuration without loading the whole machine (a faster API socket at start-up).

/** Smallest and largest guest RAM accepted (MiB). */
export const MIN_MEMORY_MIB = 4;
export const MAX_MEMORY_MIB = 3072;

/** The least RAM the default guest (guest/) boots in: with less its kernel runs out of memory before the shell. */
export const DEFAULT_GUEST_MIN_MIB = 11;
