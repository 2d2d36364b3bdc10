import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresUnavailable } from '../../src/postgres/test-db.test-helper.js';
import { castDir, troupe } from '../races/processes.js';

// A workflow of your own creates two personalities and deletes a third, then is killed before
// its last step: the deletion's commit happened, its success never reached the run log. The
// recovery must undo all three, the deletion included, on every store. On PostgreSQL the
// deletion's intent rides in its commit's transaction, which is the proof the commit happened.
const engines = (await postgresUnavailable()) ? (['file'] as const) : (['file', 'postgres'] as const);
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const FLOW = `id: add-two-retire-one
steps:
  - { id: first, service: personality, operation: create, input: { personality: { $ref: input.first } }, compensate: { operation: revert } }
  - { id: second, service: personality, operation: create, input: { personality: { $ref: input.second } }, dependsOn: [first], compensate: { operation: revert } }
  - { id: retire, service: personality, operation: remove, input: { id: { $ref: input.retire } }, dependsOn: [second], compensate: { operation: revert } }
  - id: verify
    service: configuration
    operation: verify
    input: { touched: [ { $ref: steps.first.output.touched }, { $ref: steps.second.output.touched }, { $ref: steps.retire.output.touched } ] }
    dependsOn: [retire]
`;
const BIG_FIVE =
  'bigFive: {openness: 1, conscientiousness: 2, extraversion: 3, agreeableness: 4, neuroticism: 5}';
const INPUT = `first: {id: k1, name: K1, ${BIG_FIVE}}\nsecond: {id: k2, name: K2, ${BIG_FIVE}}\nretire: spare\n`;

describe('a workflow killed after its deleting step', () => {
  it.each(engines)('on the %s store: recovery undoes every step, the deletion too', async (engine) => {
    const where = await castDir(0, engine);
    const files = await mkdtemp(join(tmpdir(), 'troupe-killed-flow-'));
    dirs.push(files);
    await writeFile(join(files, 'flow.yaml'), FLOW);
    await writeFile(join(files, 'in.yaml'), INPUT);
    const killed = await troupe(
      where,
      ['workflow', 'run', join(files, 'flow.yaml'), '--input', join(files, 'in.yaml')],
      { TROUPE_CRASH_AT: 'step:verify' },
    );
    expect(killed.signal).toBe('SIGKILL');
    const recovered = await troupe(where, ['workflow', 'recover']);
    expect(recovered.code, recovered.stdout + recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain('compensated (in this order): retire, second, first');
    const list = await troupe(where, ['personality', 'list', '--json']);
    expect(
      (JSON.parse(list.stdout) as Array<{ id: string; revision: number }>).map((p) => [p.id, p.revision]),
    ).toEqual([
      ['hub', 1],
      ['spare', 1],
    ]);
    expect((await troupe(where, ['validate'])).code).toBe(0);
  });
});
