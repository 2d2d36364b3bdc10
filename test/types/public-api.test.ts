import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as postgres from '../../src/postgres/index.js';
import * as server from '../../src/server/index.js';
import * as fixtures from '../../src/testing/fixtures/index.js';
import * as testing from '../../src/testing/index.js';

describe('the public API', () => {
  it('is what an application needs: services, stores, schemas, errors, the runner and builder', () => {
    expect(Object.keys(root).sort()).toEqual([
      'Agent',
      'AgentInput',
      'AgentService',
      'BEHAVIOR_TRAITS',
      'BIG_FIVE_TRAITS',
      'BUILT_IN_WORKFLOWS',
      'ConfigurationService',
      'DEFAULT_SERVICE_POLICY',
      'ERROR_CODES',
      'FileRunLog',
      'FileService',
      'FileStore',
      'MemoryRunLog',
      'MemoryStore',
      'Model',
      'ModelInput',
      'ModelService',
      'ModelSettings',
      'PROVIDERS',
      'Personality',
      'PersonalityInput',
      'PersonalityService',
      'ResolvedConfiguration',
      'ResolvedFile',
      'ResolvedModel',
      'Role',
      'RoleInput',
      'RoleService',
      'TroupeError',
      'VirtualClock',
      'WorkflowBuilder',
      'WorkflowRunner',
      'createServices',
      'defaultPolicies',
      'defineOperations',
      'defineWorkflow',
      'formatIssues',
      'fromOutside',
      'isTroupeError',
      'jsonSchemas',
      'operation',
      'stepOutput',
      'workflow',
      'workflowInput',
      'workflowJsonSchema',
    ]);
  });

  it('keeps engine internals and the entity services’ unguarded writes out of it', () => {
    for (const internal of [
      'executePipeline',
      'compensationOrder',
      'buildHandlers',
      'commitWithUndo',
      'applyUndo',
      'Emitter',
      'RUN_ID',
      'causeChain',
      'EntityService',
      'foldRunEvents',
    ])
      expect(root, internal).not.toHaveProperty(internal);
  });

  it('troupe/postgres holds the PostgreSQL store, run log and run queue', () => {
    expect(Object.keys(postgres).sort()).toEqual([
      'MIGRATIONS',
      'PostgresRunLog',
      'PostgresRunQueue',
      'PostgresStore',
      'SCHEMA_VERSION',
      'migrate',
    ]);
  });

  it('troupe/server holds the HTTP API, to mount or listen with', () => {
    expect(Object.keys(server).sort()).toEqual(['createApp', 'serveHttp']);
  });

  it('keeps the fixture harness on its own subpath, troupe/testing/fixtures', () => {
    expect(testing).not.toHaveProperty('runScenario');
    expect(testing).not.toHaveProperty('loadFixtures');
    expect(fixtures).toHaveProperty('runScenario');
    expect(fixtures).toHaveProperty('loadFixtures');
    expect(testing).toHaveProperty('createFakeServices');
  });
});
