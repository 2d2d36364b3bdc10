import { describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import {
  defineWorkflow,
  isValidatedDefinition,
  type WorkflowDefinitionInput,
  workflowJsonSchema,
} from './definition.js';
import { ref, stepOutput, workflowInput } from './refs.js';

function rejection(def: unknown): TroupeError {
  try {
    defineWorkflow(def as WorkflowDefinitionInput);
  } catch (e) {
    if (isTroupeError(e)) return e;
    throw e;
  }
  throw new Error('expected defineWorkflow to throw');
}

const step = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  service: 'svc',
  operation: 'op',
  ...extra,
});

describe('defineWorkflow', () => {
  it('returns the typed definition with defaults, marked as validated', () => {
    const def = defineWorkflow({ id: 'create-agent', steps: [step('a'), step('b', { dependsOn: ['a'] })] });
    expect(def.maxParallel).toBe(4);
    expect(def.steps.map((s) => s.id)).toEqual(['a', 'b']);
    expect(isValidatedDefinition(def)).toBe(true);
    expect(defineWorkflow(def)).toBe(def);
    const withRetry = defineWorkflow({
      id: 'w',
      steps: [step('a', { policy: { retry: { maxAttempts: 3, baseDelayMs: 100 } } })],
    });
    expect(withRetry.steps[0]?.policy?.retry?.multiplier).toBe(2);
  });

  it('names unknown dependencies by path, with the known step ids', () => {
    const e = rejection({ id: 'w', steps: [step('a'), step('b', { dependsOn: ['a', 'ghost'] })] });
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.issues).toEqual([
      { path: 'steps.1.dependsOn.1', message: 'unknown step "ghost"; steps are "a", "b"' },
    ]);
    expect(e.message).toContain('invalid workflow "w"');
  });

  it('checkedBy names a later step that depends on it, else it is refused by path', () => {
    const ok = defineWorkflow({
      id: 'w',
      steps: [
        step('a', { checkedBy: 'c' }),
        step('b', { dependsOn: ['a'] }),
        step('c', { dependsOn: ['b'] }),
      ],
    });
    expect(ok.steps[0]?.checkedBy).toBe('c');
    const e = rejection({
      id: 'w',
      steps: [
        step('a', { checkedBy: 'b' }),
        step('b'),
        step('c', { dependsOn: ['a'], checkedBy: 'a' }),
        step('d', { checkedBy: 'ghost' }),
      ],
    });
    expect(e.issues).toEqual([
      {
        path: 'steps.0.checkedBy',
        message: 'step "b" does not depend on "a": only a later step can check it',
      },
      {
        path: 'steps.2.checkedBy',
        message: 'step "a" does not depend on "c": only a later step can check it',
      },
      { path: 'steps.3.checkedBy', message: 'unknown step "ghost"; steps are "a", "b", "c", "d"' },
    ]);
  });

  it('names duplicate step ids', () => {
    const e = rejection({ id: 'w', steps: [step('a'), step('b'), step('a')] });
    expect(e.issues).toEqual([{ path: 'steps.2.id', message: 'duplicate step id "a" (also steps.0.id)' }]);
  });

  it('names a cycle along its steps', () => {
    const e = rejection({
      id: 'w',
      steps: [
        step('a', { dependsOn: ['c'] }),
        step('b', { dependsOn: ['a'] }),
        step('c', { dependsOn: ['b'] }),
      ],
    });
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]?.path).toBe('steps.0.dependsOn');
    expect(e.issues[0]?.message).toBe('dependency cycle a → b → c → a');
    expect(rejection({ id: 'w', steps: [step('a', { dependsOn: ['a'] })] }).issues[0]?.message).toBe(
      'dependency cycle a → a',
    );
  });

  it('rejects refs to steps that are not upstream, unknown steps and malformed refs', () => {
    const e = rejection({
      id: 'w',
      steps: [
        step('a'),
        step('b', { input: { fromA: stepOutput('a', 'id'), nested: [{ x: stepOutput('c') }] } }),
        step('c', { dependsOn: ['a'], input: { y: ref('steps.nope.output') } }),
        step('d', { dependsOn: ['c'], input: { z: ref('outputs.c'), w: { $ref: 'input.x', extra: 1 } } }),
      ],
    });
    expect(e.issues.map((i) => [i.path, i.message])).toEqual([
      [
        'steps.1.input.fromA.$ref',
        '"steps.a.output.id": step "a" is not upstream of "b"; add it to dependsOn',
      ],
      [
        'steps.1.input.nested.0.x.$ref',
        '"steps.c.output": step "c" is not upstream of "b"; add it to dependsOn',
      ],
      ['steps.2.input.y.$ref', '"steps.nope.output": unknown step "nope"'],
      ['steps.3.input.z.$ref', 'invalid $ref "outputs.c" must start with "steps." or "input"'],
      ['steps.3.input.w.$ref', 'a $ref object must have a string "$ref" and no other keys'],
    ]);
  });

  it('accepts refs to ancestors (transitively), the workflow input, and self in compensation', () => {
    const def = defineWorkflow({
      id: 'w',
      steps: [
        step('a'),
        step('b', { dependsOn: ['a'] }),
        step('c', {
          dependsOn: ['b'],
          input: { agent: stepOutput('a', 'agent.id'), name: workflowInput('name') },
          compensate: {
            operation: 'undo',
            input: { id: ref('steps.c.output.id'), was: ref('steps.c.input') },
          },
        }),
      ],
    });
    expect(def.steps[2]?.compensate?.operation).toBe('undo');
    // Only a compensation may read an input, and only its own step's.
    const e = rejection({
      id: 'w',
      steps: [step('a'), step('b', { dependsOn: ['a'], input: ref('steps.a.input') })],
    });
    expect(e.issues[0]?.path).toBe('steps.1.input.$ref');
  });

  it('reports schema problems with their path (unknown fields, bad numbers, bad recovery)', () => {
    const e = rejection({
      id: 'w',
      maxParallel: 0,
      steps: [
        step('a', {
          policy: { retry: { maxAttempts: 0, baseDelayMs: 100, jitterPercent: 150 } },
          color: 'red',
        }),
      ],
    });
    const paths = e.issues.map((i) => i.path);
    expect(paths).toContain('maxParallel');
    expect(paths).toContain('steps.0.policy.retry.maxAttempts');
    expect(paths).toContain('steps.0.policy.retry.jitterPercent');
    expect(e.issues.find((i) => i.path === 'steps.0')?.message).toBe('unknown field "color"');
    expect(rejection({ id: 'w', steps: [step('a', { recovery: 'pray' })] }).issues[0]?.path).toBe(
      'steps.0.recovery',
    );
    expect(rejection({ id: 'w', steps: [] }).issues[0]?.path).toBe('steps');
    expect(rejection({ id: 'w', steps: [step('a.b')] }).issues[0]?.path).toBe('steps.0.id');
  });
});

describe('text a definition names itself with', () => {
  it.each([
    ['a NUL in its id', { id: 'add\u0000two' }, 'id', 'U+0000'],
    ['a terminal escape in its id', { id: 'x\u001b[2J\u001b[31mFAKE' }, 'id', 'U+001B'],
    [
      'a direction override in its description',
      { id: 'w', description: 'safe\u202eexe.txt' },
      'description',
      'U+202E',
    ],
    ['a bell in its name', { id: 'w', name: 'title\u0007' }, 'name', 'U+0007'],
    [
      'a terminal escape in a step service',
      { id: 'w', service: 'svc\u001b[0m' },
      'steps.0.service',
      'U+001B',
    ],
    ['a carriage return in its id', { id: 'safe\rrm -rf ~ # ' }, 'id', 'U+000D'],
    ['a line break in its name', { id: 'w', name: 'x\ny' }, 'name', 'U+000A'],
    ['a right-to-left mark in its id', { id: 'w\u200fx' }, 'id', 'U+200F'],
  ])('refuses %s, naming the field, and never prints the character', (_what, fields, path, code) => {
    const { service, ...top } = fields as { service?: string; id: string };
    const e = rejection({ ...top, steps: [step('a', service ? { service } : {})] });
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.issues.map((i) => [i.path, i.message])).toContainEqual([
      path,
      `contains the control or direction-override character ${code}`,
    ]);
    expect(
      [...e.message.split(':\n')[0]!].filter((c) => '\u0000\u0007\u001b\u202e\r\n\u200f'.includes(c)),
    ).toEqual([]);
    expect([...e.message].filter((c) => '\u0000\u0007\u001b\u202e\r\u200f'.includes(c))).toEqual([]);
  });
});

describe('keys a definition holds', () => {
  it('a policy key that is no service name says what is wrong with it, printed escaped', () => {
    const e = rejection({
      id: 'w',
      policies: { services: { 'svc\u202eexe': { timeoutMs: 5 }, '': { timeoutMs: 5 } } },
      steps: [step('a')],
    });
    expect(e.issues.map((i) => [i.path, i.message])).toEqual([
      [
        'policies.services.svc\\u{202E}exe',
        'the key contains the control or direction-override character U+202E',
      ],
      ['policies.services.', 'the key must not be empty'],
    ]);
    expect([...e.message].filter((c) => c === '\u202e')).toEqual([]);
  });

  it('an unknown field is named escaped: a terminal escape in a key is never printed', () => {
    const e = rejection({ id: 'w', '\u001b[2Jx': 1, steps: [step('a')] });
    expect(e.issues.map((i) => i.message)).toEqual(['unknown field "\\u{1B}[2Jx"']);
    expect(e.message).not.toContain('\u001b');
  });
});

describe('workflow builder', () => {
  it('builds the same validated definition as the data form', () => {
    const built = workflow('create-agent')
      .name('Create agent')
      .maxParallel(3)
      .servicePolicy('agents', { timeoutMs: 2_000 })
      .step('check', 'personalities', 'check', { input: { id: workflowInput('personalityId') } })
      .step('create', 'agents', 'create', {
        dependsOn: ['check'],
        input: { personality: stepOutput('check', 'id') },
        compensate: { operation: 'delete' },
        policy: { retry: { maxAttempts: 3, baseDelayMs: 100 } },
      })
      .build();
    const data = defineWorkflow({
      id: 'create-agent',
      name: 'Create agent',
      maxParallel: 3,
      policies: { services: { agents: { timeoutMs: 2_000 } } },
      steps: [
        {
          id: 'check',
          service: 'personalities',
          operation: 'check',
          input: { id: { $ref: 'input.personalityId' } },
        },
        {
          id: 'create',
          service: 'agents',
          operation: 'create',
          dependsOn: ['check'],
          input: { personality: { $ref: 'steps.check.output.id' } },
          compensate: { operation: 'delete' },
          policy: { retry: { maxAttempts: 3, baseDelayMs: 100 } },
        },
      ],
    });
    expect(built).toEqual(data);
    expect(isValidatedDefinition(built)).toBe(true);
    expect(() =>
      workflow('w')
        .step('a', 's', 'o', { dependsOn: ['zz'] })
        .build(),
    ).toThrow(/unknown step "zz"/);
  });
});

describe('workflowJsonSchema', () => {
  it('describes the definition, with steps required and unknown fields refused', () => {
    const schema = workflowJsonSchema() as {
      type: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { type?: string; items?: { required?: string[] } }>;
    };
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['id', 'steps']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.steps?.items?.required).toEqual(['id', 'service', 'operation']);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
