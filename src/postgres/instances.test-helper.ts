import { afterEach } from 'vitest';
import { PostgresStore } from './store.js';
import { dropSchema, freshSchema, sharedPglite, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const opened: PostgresStore[] = [];
const made: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await Promise.all(made.splice(0).map((s) => dropSchema(s)));
});

/**
 * `count` instances on one fresh database (schema): on PGlite, stores over the shared one; on
 * PostgreSQL, each with a pool of its own. Closed, and the schema dropped, after the test.
 */
export async function instances(engine: string, count: number, poolSize = 4): Promise<PostgresStore[]> {
  const schema = freshSchema();
  last = schema;
  if (engine === 'postgres') made.push(schema);
  const out: PostgresStore[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      engine === 'pglite'
        ? await PostgresStore.pglite(await sharedPglite(), { schema })
        : await PostgresStore.connect(TEST_POSTGRES_URL, { schema, poolSize }),
    );
    opened.push(out[i] as PostgresStore);
  }
  return out;
}

let last: string | undefined;
/** The schema the last `instances` call made (to reach its tables directly). */
export const lastSchema = () => last;

/**
 * Waits until `ok` holds, looking again every few milliseconds: a real timer between looks, so
 * what is written behind (on a timer) gets its turn even on PGlite, whose queries never yield
 * to the event loop's timers.
 */
export async function until(ok: () => boolean | Promise<boolean>, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}, in vain`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
