import { randomUUID } from 'node:crypto';
import { TroupeError, validationError } from '../domain/errors.js';
import { secretPaths } from '../domain/secrets.js';
import type { TypedWorkflow } from '../orchestration/builder.js';
import {
  assertNoRecordedSecrets,
  defineWorkflow,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from '../orchestration/definition.js';
import type { RunResult } from '../orchestration/events.js';
import type { RunLog } from '../orchestration/run-log.js';
import { channelOf } from './feed.js';
import { databaseError, type SqlClient } from './sql.js';

/**
 * The queue's statements are planned at each call: a plan a connection kept from while the
 * queue was empty would scan and sort a whole backlog for each run taken.
 */
const REPLAN = { replan: true } as const;

/** What runs a queued run: a WorkflowRunner (its `run`, with the queued run's id). */
export interface QueueRunner {
  run(definition: WorkflowDefinition, input: unknown, opts: { runId: string }): Promise<RunResult>;
}

export interface WorkOptions {
  /** Stops taking runs; `work` resolves once the runs under way have ended. */
  signal: AbortSignal;
  /** Runs at once on this instance; default 4. */
  concurrency?: number;
  /** Looks for runs this often even without a notification (one lost in a restart); default 1 s. */
  pollMs?: number;
  /** A run that could not be started here (kept in the queue for another try), or a lost listen. */
  onError?: (error: unknown, runId?: string) => void;
  /** A run this instance took and ran to its end (whatever its status). */
  onRun?: (result: RunResult) => void;
}

/** A taken run waits this long before another instance may take it again (if it never started). */
const TAKE_MS = 10_000;

/**
 * Runs waiting for any instance on the database. `enqueue` records a run and wakes the
 * instances (NOTIFY); each `work`ing instance takes the oldest waiting run no one else is
 * taking (`FOR UPDATE SKIP LOCKED`) and runs it under its run log's lease. A run id is one run:
 * an instance that took a run and died before starting it leaves it to be taken again once
 * its take runs out (its claim, if it made one, is taken over at the next epoch); one that died
 * after is recovered from the run log like any other run,
 * and the queue entry is dropped by whoever finds the run begun. Inputs are stored as given,
 * so one that carries what looks like a secret is refused: name an environment variable.
 *
 * @example
 * ```ts
 * const queue = store.runQueue();
 * const stop = new AbortController();
 * void queue.work(new WorkflowRunner({ services, runLog: store.runLog() }), { signal: stop.signal });
 * const runId = await queue.enqueue(def, { n: 1 });
 * ```
 */
export class PostgresRunQueue {
  readonly #db: SqlClient;
  readonly #channel: string;
  readonly #log: RunLog;

  constructor(db: SqlClient, schema: string, log: RunLog) {
    this.#db = db;
    this.#channel = channelOf('troupe_queue', schema);
    this.#log = log;
  }

  /** Queues a run of `definition` with `input`; returns its run id once it is committed. */
  async enqueue(
    definition: TypedWorkflow<unknown> | WorkflowDefinitionInput,
    input: unknown = {},
    opts: { runId?: string } = {},
  ): Promise<string> {
    const def = defineWorkflow(definition);
    assertNoRecordedSecrets(def); // a queued definition is stored, as a run's is recorded
    const secrets = secretPaths(input);
    if (secrets.length)
      throw validationError(
        `queued run of workflow "${def.id}": input ${secrets.map((p) => `"${p}"`).join(', ')} looks like a key or token; a queued input is stored, so pass secrets as environment variable names`,
        secrets.map((path) => ({ path: `input.${path}`, message: 'looks like a secret' })),
      );
    const runId = opts.runId ?? randomUUID();
    try {
      const { rows } = await this.#db.query(
        `WITH q AS (INSERT INTO troupe_run_queue (run_id, workflow_id, definition, input)
           SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM troupe_runs WHERE run_id = $1)
           ON CONFLICT (run_id) DO NOTHING RETURNING run_id)
         SELECT pg_notify($5, run_id) FROM q`,
        [runId, def.id, JSON.stringify(def), JSON.stringify(input ?? null), this.#channel],
      );
      if (rows.length === 0)
        throw validationError(`run id "${runId}" is already in use`, [
          { path: 'runId', message: 'already used' },
        ]);
    } catch (e) {
      throw databaseError(e, this.#db.where, 'queue a run');
    }
    return runId;
  }

  /** Runs still waiting (not begun), oldest first. */
  async waiting(): Promise<Array<{ runId: string; workflowId: string }>> {
    const { rows } = await this.#db
      .query<{ run_id: string; workflow_id: string }>(
        'SELECT run_id, workflow_id FROM troupe_run_queue ORDER BY enqueued_at, run_id',
      )
      .catch((e: unknown) => {
        throw databaseError(e, this.#db.where, 'list queued runs');
      });
    return rows.map((r) => ({ runId: r.run_id, workflowId: r.workflow_id }));
  }

  /**
   * Takes and runs queued runs until `signal` aborts, at most `concurrency` at once; woken by
   * NOTIFY, and looking every `pollMs` too. Resolves when stopped and the runs under way ended.
   */
  async work(runner: QueueRunner, opts: WorkOptions): Promise<void> {
    const { signal } = opts;
    const concurrency = opts.concurrency ?? 4;
    let wake: () => void = () => {};
    let woken = false;
    const poke = () => {
      woken = true;
      wake();
    };
    const stopListening = await this.#db
      .listen(this.#channel, poke, (e) =>
        opts.onError?.(databaseError(e, this.#db.where, 'hear queued runs')),
      )
      .catch((e: unknown) => {
        throw databaseError(e, this.#db.where, 'hear queued runs');
      });
    signal.addEventListener('abort', poke, { once: true });
    const running = new Set<Promise<void>>();
    try {
      while (!signal.aborted) {
        woken = false;
        while (running.size < concurrency && !signal.aborted) {
          const taken = await this.#take().catch((e: unknown) => {
            opts.onError?.(e);
            return undefined;
          });
          if (!taken) break;
          const p = this.#runTaken(runner, taken, opts).finally(() => {
            running.delete(p);
            poke();
          });
          running.add(p);
        }
        if (woken || signal.aborted) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.pollMs ?? 1_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      signal.removeEventListener('abort', poke);
      await Promise.all(running);
      await stopListening();
    }
  }

  /** The oldest waiting run no other instance is taking, taken for TAKE_MS. */
  async #take(): Promise<{ runId: string; definition: unknown; input: unknown } | undefined> {
    try {
      const { rows } = await this.#db.query<{ run_id: string; definition: unknown; input: unknown }>(
        `UPDATE troupe_run_queue SET taken_until = clock_timestamp() + $1 * interval '1 millisecond'
         WHERE run_id = (SELECT run_id FROM troupe_run_queue
           WHERE taken_until IS NULL OR taken_until < clock_timestamp()
           ORDER BY enqueued_at, run_id FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING run_id, definition, input`,
        [TAKE_MS],
        REPLAN,
      );
      const row = rows[0];
      return row && { runId: row.run_id, definition: row.definition, input: row.input };
    } catch (e) {
      throw databaseError(e, this.#db.where, 'take a queued run');
    }
  }

  /**
   * Runs a taken run; drops its entry once the run has begun (here or, before, elsewhere). A
   * run that could not begin (a definition this instance cannot run) stays queued.
   */
  async #runTaken(
    runner: QueueRunner,
    taken: { runId: string; definition: unknown; input: unknown },
    opts: WorkOptions,
  ): Promise<void> {
    let begun = false;
    try {
      const result = await runner.run(
        defineWorkflow(taken.definition as WorkflowDefinitionInput),
        taken.input,
        {
          runId: taken.runId,
        },
      );
      begun = true;
      opts.onRun?.(result);
    } catch (e) {
      // Begun already (by an instance whose take ran out), or never: the run log says which.
      begun = (await this.#log.read(taken.runId).catch(() => undefined)) !== undefined;
      if (!begun) {
        opts.onError?.(e instanceof TroupeError ? e : databaseError(e, this.#db.where, 'run'), taken.runId);
        // An instance that died (or stalled) between claiming the run and recording it left a
        // row with no events: once its claim has run out, the run is taken again at once, and
        // the fresh claim takes that row over at the next epoch (the old claimant is fenced).
        await this.#db
          .query(
            `UPDATE troupe_run_queue SET taken_until = NULL WHERE run_id = $1 AND EXISTS (
               SELECT 1 FROM troupe_runs r WHERE r.run_id = $1 AND (r.released OR r.lease_expires_at < now())
               AND NOT EXISTS (SELECT 1 FROM troupe_run_events e WHERE e.run_id = r.run_id))`,
            [taken.runId],
            REPLAN,
          )
          .catch(() => undefined);
      }
    }
    if (begun)
      await this.#db
        .query('DELETE FROM troupe_run_queue WHERE run_id = $1', [taken.runId], REPLAN)
        .catch((e: unknown) =>
          opts.onError?.(databaseError(e, this.#db.where, 'drop a queued run'), taken.runId),
        );
  }
}
