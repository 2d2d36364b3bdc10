import type { Cli } from './helpers.js';
import { snapshot, write } from './helpers.js';

/** Workflow definitions and helpers the `troupe workflow` tests share. */

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

export const checkThenVerify = `
id: check-and-verify
description: Check that a personality exists, then verify the configuration
steps:
  - id: check
    service: personality
    operation: check
    input: { id: { $ref: input.id } }
  - id: verify
    service: configuration
    operation: verify
    input: { touched: [] }
    dependsOn: [check]
`;

export const bold = (id: string) => ({
  id,
  name: id,
  bigFive: { openness: 90, conscientiousness: 40, extraversion: 80, agreeableness: 40, neuroticism: 30 },
});

/** Creates two personalities (the second after the first), then removes one that does not exist. */
export const createThenFail = {
  id: 'create-then-fail',
  steps: [
    {
      id: 'first',
      service: 'personality',
      operation: 'create',
      input: { personality: { $ref: 'input.first' } },
      compensate: { operation: 'revert' },
    },
    {
      id: 'second',
      service: 'personality',
      operation: 'create',
      input: { personality: { $ref: 'input.second' } },
      dependsOn: ['first'],
      compensate: { operation: 'revert' },
    },
    {
      id: 'remove',
      service: 'personality',
      operation: 'remove',
      input: { id: 'ghost' },
      dependsOn: ['second'],
    },
  ],
};

/** The configuration files, without the store's own state (backups, run logs) under .troupe/. */
export const entities = async (dir: string) =>
  Object.fromEntries(Object.entries(await snapshot(dir)).filter(([path]) => !path.startsWith('.troupe/')));

export interface RunResultJson {
  runId: string;
  workflowId: string;
  status: string;
  compensated: string[];
  outputs: Record<string, unknown>;
}

/**
 * Writes checkThenVerify as flow.yaml and `{ "id": ID }` as in.json in root, then runs it
 * (`troupe workflow run flow.yaml --input in.json`): the result and the run id it printed.
 */
export async function runCheckThenVerify(root: string, t: Cli, id = 'calm') {
  await write(root, 'flow.yaml', checkThenVerify);
  await write(root, 'in.json', `{ "id": "${id}" }`);
  const r = await t('workflow', 'run', 'flow.yaml', '--input', 'in.json');
  return { r, runId: UUID.exec(r.stdout)?.[0] as string };
}
