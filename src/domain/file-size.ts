/**
 * The largest file troupe reads: an input file (a bundle of ~100k entities) or a file of the
 * directory itself. A larger one is refused unread, naming it, never read whole into memory.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
