import { afterAll } from 'vitest';
import { describeStoreContract } from '../storage/contract.test-helper.js';
import { PostgresStore } from './store.js';
import {
  dropSchema,
  freshSchema,
  pgliteStore,
  postgresUnavailable,
  sharedPglite,
  TEST_POSTGRES_URL,
} from './test-db.test-helper.js';

describeStoreContract('PGlite', () => pgliteStore());
afterAll(async () => (await sharedPglite()).close());

const unavailable = await postgresUnavailable();
if (!unavailable) {
  let schema = '';
  describeStoreContract(
    'PostgreSQL',
    () => {
      schema = freshSchema();
      return PostgresStore.connect(TEST_POSTGRES_URL, { schema, poolSize: 4 });
    },
    () => dropSchema(schema),
  );
}
