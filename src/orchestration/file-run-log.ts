import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TroupeError } from '../domain/errors.js';
import {
  foldRunEvents,
  RUN_ID,
  type RunEvent,
  type RunLog,
  type RunRecord,
  type RunSummary,
  summarize,
} from './run-log.js';

const FINAL_STATES = new Set(['completed', 'failed', 'compensated', 'partially-completed']);
/** Step events that recovery relies on are made durable like state transitions. */
const DURABLE_STEP_KINDS = new Set([
  'success',
  'failure',
  'deferred',
  'compensated',
  'compensation-failed',
  'intent',
]);

function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId))
    throw new TroupeError(
      'VALIDATION_FAILED',
      `run id ${JSON.stringify(runId)} must be 1–128 of A-Z a-z 0-9 _ -`,
      {
        context: { runId },
      },
    );
}

/** Parse JSON lines; a torn last line (a crash mid-write) is dropped, a corrupt middle line is an error. */
export function parseRunLines(text: string, file: string): RunEvent[] {
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch (cause) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (isLast) break;
      throw new TroupeError('IO_ERROR', `${file}:${i + 1}: corrupt run log line`, {
        cause,
        context: { file, line: i + 1 },
      });
    }
  }
  return events;
}

/**
 * One JSON-lines file per run at `<dir>/<runId>.jsonl`. Each append is one `write` of one
 * line; state transitions (and the step events recovery needs) are fsynced before the append
 * resolves, so the log can be read back after a crash.
 */
export class FileRunLog implements RunLog {
  readonly dir: string;
  readonly #handles = new Map<string, Promise<FileHandle>>();
  readonly #chains = new Map<string, Promise<void>>();
  #dirReady: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  #file(runId: string): string {
    assertRunId(runId);
    return join(this.dir, `${runId}.jsonl`);
  }

  async #openHandle(file: string): Promise<FileHandle> {
    this.#dirReady ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.#dirReady;
    const handle = await open(file, 'a+');
    // A previous process may have died mid-line: cut the torn tail so the next line stays whole.
    const { size } = await handle.stat();
    if (size > 0) {
      const text = await readFile(file, 'utf8');
      if (!text.endsWith('\n')) {
        const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
        await handle.truncate(keep);
      }
    } else {
      await this.#syncDir();
    }
    return handle;
  }

  async #syncDir(): Promise<void> {
    // Make the new file's directory entry durable; not every platform allows opening a directory.
    try {
      const d = await open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Best effort: the file's own fsync still holds its contents.
    }
  }

  append(runId: string, event: RunEvent): Promise<void> {
    const file = this.#file(runId);
    const previous = this.#chains.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      let handle = this.#handles.get(runId);
      if (!handle) {
        handle = this.#openHandle(file);
        this.#handles.set(runId, handle);
        // A failed open is not cached: the next append tries again.
        handle.catch(() => this.#handles.delete(runId));
      }
      const h = await handle;
      await h.write(`${JSON.stringify(event)}\n`);
      const final = event.type === 'state' && FINAL_STATES.has(event.to);
      if (
        event.type === 'created' ||
        event.type === 'state' ||
        (event.type === 'step' && DURABLE_STEP_KINDS.has(event.kind))
      )
        await h.sync();
      if (final) {
        this.#handles.delete(runId);
        await h.close();
      }
    });
    // Keep the chain alive after a failure so later appends still run; the caller sees the error.
    const settled = next.catch(() => {});
    this.#chains.set(runId, settled);
    void settled.then(() => {
      if (this.#chains.get(runId) === settled) this.#chains.delete(runId);
    });
    return next;
  }

  async read(runId: string): Promise<RunRecord | undefined> {
    const file = this.#file(runId);
    await this.#chains.get(runId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TroupeError('IO_ERROR', `${file}: cannot read run log`, { cause: e, context: { file } });
    }
    return foldRunEvents(parseRunLines(text, file));
  }

  async list(): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TroupeError('IO_ERROR', `${this.dir}: cannot list run logs`, {
        cause: e,
        context: { dir: this.dir },
      });
    }
    const out: RunSummary[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.jsonl')) continue;
      const runId = name.slice(0, -'.jsonl'.length);
      if (!RUN_ID.test(runId)) continue;
      const record = await this.read(runId);
      if (record) out.push(summarize(record));
    }
    return out;
  }

  /** Close the files of runs still open (runs that have not reached a final state). */
  async close(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    for (const h of handles) await (await h).close();
  }
}
