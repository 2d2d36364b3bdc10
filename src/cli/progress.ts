import type { Command } from 'commander';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import type { SerializedError } from '../domain/errors.js';
import type { StepEvent } from '../orchestration/events.js';
import type { CliContext } from './context.js';
import { duration } from './timeline.js';

/** Runs with at least this many steps (or entities, for a bundle) show progress. */
export const PROGRESS_THRESHOLD = 4;

const err = (e: SerializedError | undefined) => (e ? `${e.code}: ${e.message.split('\n')[0]}` : 'failed');

/** One line for a step event worth showing, or undefined for the ones that are not. */
export function progressLine(e: StepEvent): string | undefined {
  const op = `${e.service}.${e.operation}`;
  const head = (mark: string) => `${mark} ${e.stepId} (${op})`;
  switch (e.kind) {
    case 'start':
      return `${head('▶')} started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`;
    case 'success':
      return `${head('✓')} done${e.durationMs !== undefined ? ` in ${duration(e.durationMs)}` : ''}${e.viaFallback ? ' via its fallback' : ''}`;
    case 'retry-scheduled':
      return `${head('↻')} ${err(e.error)}; retrying as attempt ${e.attempt}${e.delayMs !== undefined ? ` in ${duration(e.delayMs)}` : ''}`;
    case 'conflict-retry':
      return `${head('↻')} ${err(e.error)}; re-running as attempt ${e.attempt}`;
    case 'requeued':
      return `${head('↻')} ${err(e.error)}; re-queued to run on its own`;
    case 'failure':
      return `${head('✗')} ${err(e.error)}`;
    case 'deferred':
      return `${head('⏸')} deferred${e.retryAt !== undefined ? ` until ${new Date(e.retryAt).toISOString()}` : ''}: ${err(e.error)}`;
    case 'skipped':
      return `${head('-')} skipped`;
    case 'circuit':
      return `${head('!')} circuit of service ${e.service} ${e.circuit}`;
    case 'compensate-start':
      return `${head('↶')} compensating`;
    case 'compensated':
      return `${head('↶')} compensated${e.durationMs !== undefined ? ` in ${duration(e.durationMs)}` : ''}`;
    case 'compensation-failed':
      return `${head('✗')} compensation failed: ${err(e.error)}`;
    default:
      return undefined;
  }
}

/**
 * Prints one line per step as it starts, finishes, retries or is compensated, on stderr so
 * stdout stays clean; only for runs of at least PROGRESS_THRESHOLD steps, on a terminal,
 * without --json. Returns the function that stops it.
 */
export function showProgress(
  ctx: CliContext,
  cmd: Command,
  config: ConfigurationService,
  size: number,
): () => void {
  if (!ctx.io.isTTY || ctx.globals(cmd).json === true || size < PROGRESS_THRESHOLD) return () => {};
  return config.runner.on('step', (e) => {
    const line = progressLine(e);
    if (line) ctx.io.stderr(`  ${line}\n`);
  });
}

const BAR_WIDTH = 24;

/** `[████████····]  2/3 steps  persist`: a run's progress as one line. */
export function progressBar(done: number, total: number, current: string): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((BAR_WIDTH * Math.min(done, total)) / total);
  return `[${'█'.repeat(filled)}${'·'.repeat(BAR_WIDTH - filled)}] ${done}/${total} steps  ${current}`;
}

/**
 * A progress bar on stderr, redrawn in place as the run's steps start and finish, and erased
 * at the end: for a run whose output would not fit on the terminal anyway (a big bundle), on
 * a terminal, without --json. Returns the function that stops it.
 */
export function showProgressBar(
  ctx: CliContext,
  cmd: Command,
  config: ConfigurationService,
  steps: number,
  label: string,
): () => void {
  if (!ctx.io.isTTY || ctx.globals(cmd).json === true) return () => {};
  const finished = new Set<string>();
  let drawn = false;
  const draw = (current: string) => {
    ctx.io.stderr(`\r\x1b[2K${label} ${progressBar(finished.size, steps, current)}`);
    drawn = true;
  };
  const off = config.runner.on('step', (e) => {
    if (e.kind === 'success' || e.kind === 'skipped') finished.add(e.stepId);
    if (e.kind === 'start' || e.kind === 'success' || e.kind === 'skipped') draw(e.stepId);
    else if (e.kind === 'compensate-start') draw(`undoing ${e.stepId}`);
  });
  return () => {
    off();
    if (drawn) ctx.io.stderr('\r\x1b[2K');
  };
}

/** Runs fn with progress shown (see showProgress, or showProgressBar with `bar`) and stops it whatever happens. */
export async function withProgress<T>(
  ctx: CliContext,
  cmd: Command,
  config: ConfigurationService,
  size: number,
  fn: () => Promise<T>,
  bar?: { steps: number; label: string },
): Promise<T> {
  const stop = bar
    ? showProgressBar(ctx, cmd, config, bar.steps, bar.label)
    : showProgress(ctx, cmd, config, size);
  try {
    return await fn();
  } finally {
    stop();
  }
}
