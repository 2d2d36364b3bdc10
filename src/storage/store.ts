import type { Issue } from '../domain/errors.js';

/** The entity kinds a store holds; each is also the folder name in the file store. */
export const KINDS = ['personalities', 'roles', 'agents', 'models', 'resolved'] as const;
export type Kind = (typeof KINDS)[number];

/** A stored document: the entity's own fields plus the store's metadata. */
export interface StoredDoc {
  id: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** The id of the commit that wrote this version (absent on documents written before ids). */
  commit?: string;
  [field: string]: unknown;
}

/** A document to write; metadata fields, if present, are ignored and set by the store. */
export type DocInput = { id: string; [field: string]: unknown };

export interface WriteOptions {
  /**
   * Compare-and-swap: a number means "must be at this revision"; 0 means "not stored yet":
   * absent, or a file written by hand and not yet adopted (revision 0).
   */
  expectedRevision?: number | undefined;
}

export type BatchOp =
  | {
      op: 'put';
      kind: Kind;
      doc: DocInput;
      expectedRevision?: number | undefined;
      /**
       * A create: the document must not exist at all, not even as a file written by hand and
       * not yet adopted (revision 0), which ALREADY_EXISTS names as such. Implies
       * `expectedRevision: 0`; a commit of it replaces nothing, so its undo is a delete.
       */
      create?: true | undefined;
      /** A create's `createdAt` when not now: the time it was first created elsewhere (a migration). */
      createdAt?: string | undefined;
      /**
       * Undo of a delete: bring the document back with the metadata it had (revision and
       * timestamps), so whatever was composed against that revision stays valid. Only
       * allowed where the document does not exist.
       */
      restore?: { revision: number; createdAt: string; updatedAt: string; commit?: string } | undefined;
      /**
       * The commit this version is credited to. A caller that must know its commit's id before
       * it commits (to record its undo first) gives it here; an undo putting back what another
       * commit wrote gives that commit's id, so the version is again that commit's own. By
       * default, an id the store draws for the batch.
       */
      commit?: string | undefined;
      /**
       * Write even if the content is what is stored (adopting a file edited by hand: its
       * revision moves forward). Without it, a put of identical content may be left out.
       */
      touch?: boolean | undefined;
    }
  | { op: 'delete'; kind: Kind; id: string; expectedRevision?: number | undefined }
  /**
   * A guard: writes nothing, but the whole batch fails with CONCURRENT_MODIFICATION unless
   * the document is at this revision — e.g. the personality an agent was composed against.
   */
  | { op: 'check'; kind: Kind; id: string; expectedRevision: number }
  /**
   * A guard on what no single revision shows: the batch fails with CONCURRENT_MODIFICATION if,
   * once it is applied, any document of `kind` has every field of `where` — e.g. "no agent
   * uses personality hub" for a delete, so an agent created meanwhile is never left dangling.
   * `except`: ids that may match (those the batch itself writes, each guarded by its own
   * revision) — e.g. "no agent uses calm but the ones this update re-composes".
   */
  | { op: 'absent'; kind: Kind; where: Record<string, string>; except?: string[] | undefined };

/** The ops that write nothing: guards checked at commit time. */
export type GuardOp = Extract<BatchOp, { op: 'check' | 'absent' }>;
export const isGuard = (op: BatchOp): op is GuardOp => op.op === 'check' || op.op === 'absent';

export interface CommitResult {
  /** One entry per put or delete, in order: the written document, or the deleted one's last state. */
  results: Array<{ op: 'put' | 'delete'; kind: Kind; id: string; doc: StoredDoc }>;
}

/**
 * The one storage interface. Every adapter (memory, file, PostgreSQL) runs the same
 * contract suite. `commit` is all-or-nothing across kinds; CAS mismatches throw
 * CONCURRENT_MODIFICATION naming both revisions; a missing entity on delete throws NOT_FOUND.
 */
export interface CommitOptions {
  signal?: AbortSignal | undefined;
  /**
   * The run (and the epoch of its lease) this commit is a step of. A store that keeps runs
   * itself (PostgreSQL) refuses the commit, writing nothing, once another instance has claimed
   * the run since: a zombie cannot write. Stores that keep no runs have nothing to check.
   */
  fence?: Fence | undefined;
  /**
   * Writes another party asks this commit to make in its own transaction (a run log's intent,
   * where the log lives in the same database): only to a store whose `carries` says yes.
   */
  carried?: CarriedWrite | undefined;
}

/**
 * Writes a commit can carry: made in the commit's transaction, so they land with it or not at
 * all (a run's intent and the write it announces, in one synchronous commit instead of two).
 */
export interface CarriedWrite {
  /** The database they belong to: only a store over that very one carries them. */
  readonly sink: unknown;
  /** Makes them in the store's transaction `tx`; the function returned is told whether it committed. */
  writeIn(tx: unknown): Promise<(committed: boolean) => void>;
}

/** A run's lease as a write carries it: the writer must still hold this epoch. */
export interface Fence {
  runId: string;
  epoch: number;
}

/** One `*.json` file of a kind folder as `scan` sees it; never an exception. */
export interface ScanEntry {
  kind: Kind;
  /** Path relative to the store directory, with `/`, e.g. `personalities/calm.json`. */
  file: string;
  /** The id the file name gives. */
  id: string;
  /** Set when the file is a valid stored document. */
  doc?: StoredDoc;
  /** The parsed JSON, whenever the file is valid JSON (also for hand-written files without metadata). */
  raw?: unknown;
  /** The first problem found, when the file is not a valid stored document. */
  error?: Issue;
}

/**
 * What a Store may do beyond the contract, typed so callers need no duck typing: an adapter
 * that keeps files reads each one without stopping at a bad one (`scan`, `strays`); one that
 * keeps backups reads a past revision (`readBackup`). Absent on adapters that cannot.
 */
/** One change of the change feed: a put or delete of one document, at its place in the feed. */
export interface ChangeEvent {
  type: 'change';
  /** Where in the feed: pass the last one seen as `fromRevision` to go on from there. */
  position: number;
  op: 'put' | 'delete';
  kind: Kind;
  id: string;
  /** The document's revision this change wrote (a delete: the revision it had). */
  revision: number;
  /** The commit that wrote it (a put); null for a delete, and where no commit id is known. */
  writer: string | null;
}

/** The feed no longer has what `fromRevision` asks for (history was compacted): list again. */
export interface RelistEvent {
  type: 'relist';
  /** The position to watch from after listing. */
  position: number;
  reason: string;
}

export interface WatchOptions {
  /** Changes after this position; default: from now. */
  fromRevision?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called once the feed is established: every change committed from then on is heard. */
  onReady?: (() => void) | undefined;
}

/** A file where entities live that the store never reads: its name (printable) and why not. */
export interface Stray {
  file: string;
  why: string;
}

export interface StoreCapabilities {
  /** The change feed: every change after `fromRevision`, then each one as it is committed. */
  watch?(opts?: WatchOptions): AsyncIterable<ChangeEvent | RelistEvent>;
  /** Every `*.json` of a kind folder (or all), each with its document or its problem. */
  scan?(kind?: Kind): Promise<ScanEntry[]>;
  /** Files where entities live that the store never reads (editor backups, links), each with why. */
  strays?(): Promise<Stray[]>;
  /** A revision kept in the store's backups, if it still has it. */
  readBackup?(kind: Kind, id: string, revision: number): Promise<StoredDoc | undefined>;
  /**
   * The documents of a kind that have every field of `where` (a dotted key is a path into the
   * document), by id, found by an index instead of listing the kind: at least those (callers
   * check each again), as `list` would give them.
   */
  find?(kind: Kind, where: Record<string, string>): Promise<StoredDoc[]>;
  /**
   * How a message names a document of this store: a database its row (`personalities/calm`);
   * without it, the file a directory keeps it in (`personalities/calm.json`).
   */
  placeOf?(kind: Kind, id: string): string;
}

export interface Store extends StoreCapabilities, CommitIds {
  get(kind: Kind, id: string): Promise<StoredDoc | undefined>;
  list(kind: Kind): Promise<StoredDoc[]>;
  put(kind: Kind, doc: DocInput, opts?: WriteOptions): Promise<StoredDoc>;
  delete(kind: Kind, id: string, opts?: WriteOptions): Promise<StoredDoc>;
  /**
   * Applies the batch all-or-nothing. `signal`: an abort before the commit point (while waiting
   * for another writer, say) fails it with CANCELLED and nothing written; after it, the commit
   * completes (it cannot be half taken back).
   */
  commit(ops: BatchOp[], opts?: CommitOptions): Promise<CommitResult>;
  /** Whether a commit of this store makes `w` in its own transaction (see CommitOptions.carried). */
  carries?(w: CarriedWrite): boolean;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Source of timestamps; defaults to the system clock. */
  now?: () => number;
}

/** A store's own source of commit ids (a test's, to make them the same on every run). */
export interface CommitIds {
  newCommitId?: (() => string) | undefined;
}

/** The order `list` gives documents in: by id, code unit by code unit (ids are ASCII slugs). */
export const byId = (a: { id: string }, b: { id: string }): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

export const singular: Record<Kind, string> = {
  personalities: 'personality',
  roles: 'role',
  agents: 'agent',
  models: 'model',
  resolved: 'resolved configuration',
};
