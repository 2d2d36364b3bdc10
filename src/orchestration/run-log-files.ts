import { stat } from 'node:fs/promises';
import { TroupeError } from '../domain/errors.js';
import { bootedAt } from '../platform/liveness.js';
import { digestOf } from './logged.js';
import { RUN_ID, type RunEvent } from './run-log.js';

/**
 * The files of a FileRunLog, line by line: how a log is read back (a torn last line dropped),
 * how a finished one is compacted, and when a file a process left is surely abandoned.
 */

/**
 * A run log with no whole line (empty, or only a line a crash or power loss tore) this old
 * belongs to a run stopped before it recorded anything: it is removed.
 */
export const ABANDONED_AFTER_MS = 60_000;

/** A file untouched that long, or since before this machine last started: no process is still at it. */
export async function abandoned(file: string): Promise<boolean> {
  const st = await stat(file);
  return Date.now() - st.mtimeMs > ABANDONED_AFTER_MS || st.mtimeMs < bootedAt();
}
/** Logs of finished runs larger than this are compacted when moved aside. */
export const COMPACT_OVER = 64 * 1024;
/** Step inputs and outputs larger than this are replaced by their digest in a compacted log. */
const KEEP_VALUE_UNDER = 4 * 1024;

/**
 * A finished run's log without what only recovery needed: intent events are dropped, and
 * large step inputs and outputs (copies of documents) and a large workflow input are replaced
 * by their digest and size.
 */
export function compactRunLog(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event.type === 'step' && event.kind === 'intent') continue;
    const fields = event.type === 'step' ? ['input', 'output'] : event.type === 'created' ? ['input'] : [];
    for (const field of fields) {
      if (!(field in event)) continue;
      const json = JSON.stringify(event[field]);
      if (json.length > KEEP_VALUE_UNDER) event[field] = digestOf(json);
    }
    out.push(JSON.stringify(event));
  }
  return `${out.join('\n')}\n`;
}

export function assertRunId(runId: string): void {
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
