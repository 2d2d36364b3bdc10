/**
 * The bad-input corpus: things a person pastes, clones or types. Every case must exit 1 (or 2
 * for usage), with a message naming the file and the field, leave the directory byte-identical
 * (run logs aside), and never print or store the secret it carries.
 */
export interface BadInput {
  name: string;
  /** Files written under the working directory before the command (name → content). */
  files?: Record<string, string | Uint8Array>;
  args: string[];
  code: 1 | 2;
  /** What the message must say: the file and field at fault. */
  says: RegExp;
  /** A value that must appear in no file and no output. */
  secret?: string;
}

const KEY = 'sk-ant-api03-Qq9Ww8Ee7Rr6Tt5Yy4Uu3Ii2Oo1Pp0-zzzz';
const PAT = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const bigFive = { openness: 60, conscientiousness: 80, extraversion: 30, agreeableness: 60, neuroticism: 10 };
const personality = (extra: Record<string, unknown>) => JSON.stringify({ name: 'Bad', bigFive, ...extra });
const role = (extra: Record<string, unknown>) =>
  JSON.stringify({ name: 'Bad Role', systemPrompt: 'Review.', ...extra });
const agent = (model: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: 'Bad Agent',
    personalityId: 'calm',
    roleId: 'reviewer',
    model: { provider: 'openai', modelId: 'gpt-4o', ...model },
    ...extra,
  });

const secretCase = (
  where: string,
  args: string[],
  secret: string,
  says: RegExp,
  code: 1 | 2 = 1,
): BadInput => ({
  name: `a secret in ${where}`,
  args,
  code,
  says,
  secret,
});

export const CASES: BadInput[] = [
  // Secrets, wherever they are pasted.
  secretCase(
    'a description flag',
    ['personality', 'update', 'calm', '--description', `key ${KEY}`],
    KEY,
    /description/,
  ),
  secretCase(
    'a trait value',
    ['personality', 'update', 'calm', '--trait', `openness=${KEY}`],
    KEY,
    /openness/,
    2, // a flag given a value it cannot take
  ),
  secretCase(
    'an *Env flag (AWS key id)',
    ['agent', 'update', 'ada', '--api-key-env', 'AKIAIOSFODNN7EXAMPLE'],
    'AKIAIOSFODNN7EXAMPLE',
    /apiKeyEnv/,
  ),
  secretCase(
    'an *Env flag (40 hex digits)',
    ['agent', 'update', 'ada', '--api-key-env', '0123456789ABCDEF0123456789ABCDEF01234567'],
    '0123456789ABCDEF0123456789ABCDEF01234567',
    /apiKeyEnv/,
  ),
  secretCase(
    'a name',
    ['personality', 'create', '--preset', 'calm-analyst', '--name', `Bot ${PAT}`],
    PAT,
    /name/,
  ),
  secretCase(
    'a system prompt',
    ['role', 'update', 'reviewer', '--system-prompt', `Use ${JWT}`],
    JWT,
    /systemPrompt/,
  ),
  secretCase(
    'instructions',
    ['agent', 'update', 'ada', '--instructions', `aws ${AWS_SECRET}`],
    AWS_SECRET,
    /instructions/,
  ),
  {
    name: 'a secret in a role tone (file)',
    files: { 'r.json': role({ constraints: { tone: `calm ${PAT}` } }) },
    args: ['role', 'create', '--from', 'r.json'],
    code: 1,
    says: /r\.json: .*constraints\.tone/,
    secret: PAT,
  },
  {
    name: 'a secret in banned topics (file)',
    files: { 'r.json': role({ constraints: { bannedTopics: ['politics', `xoxb-1234567890-abcdefghij`] } }) },
    args: ['role', 'create', '--from', 'r.json'],
    code: 1,
    says: /r\.json: .*constraints\.bannedTopics\.1/,
    secret: 'xoxb-1234567890-abcdefghij',
  },
  {
    name: 'credentials in a model base URL',
    files: { 'a.json': agent({ baseUrl: 'https://admin:s3cretpassw0rd@llm.example.com/v1' }) },
    args: ['agent', 'create', '--from', 'a.json'],
    code: 1,
    says: /a\.json: .*model\.baseUrl/,
    secret: 's3cretpassw0rd',
  },
  {
    name: 'a key in a model base URL query',
    files: { 'a.json': agent({ baseUrl: 'https://llm.example.com/v1?api_key=abcdef1234567890' }) },
    args: ['agent', 'create', '--from', 'a.json'],
    code: 1,
    says: /a\.json: .*model\.baseUrl/,
    secret: 'abcdef1234567890',
  },
  {
    name: 'a secret in a stop sequence',
    files: { 'a.json': agent({ stop: ['###', 'glpat-abcdefghij0123456789'] }) },
    args: ['agent', 'create', '--from', 'a.json'],
    code: 1,
    says: /a\.json: .*model\.stop\.1/,
    secret: 'glpat-abcdefghij0123456789',
  },
  {
    name: 'a secret in a bundle',
    files: {
      'b.json': JSON.stringify({
        personalities: [{ id: 'leak', name: 'Leak', bigFive, customInstructions: `token ${PAT}` }],
      }),
    },
    args: ['apply', '-f', 'b.json'],
    code: 1,
    says: /b\.json: [\s\S]*personalities\[0\]\.customInstructions/,
    secret: PAT,
  },
  // Bad bytes.
  {
    name: 'invalid UTF-8',
    files: { 'p.json': new Uint8Array([...Buffer.from('{"name":"B'), 0xff, 0xfe, ...Buffer.from('ad"}')]) },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: is not valid UTF-8 \(at byte 10\)/,
  },
  {
    name: 'a NUL in a name',
    args: ['personality', 'update', 'calm', '--name', 'Ca\u0000lm'],
    code: 1,
    says: /name: contains the control or direction-override character U\+0000/,
  },
  {
    name: 'an ANSI escape in a name',
    args: ['personality', 'update', 'calm', '--name', 'Calm\u001b[31m'],
    code: 1,
    says: /name: contains the control or direction-override character U\+001B/,
  },
  {
    name: 'a right-to-left override in a description',
    args: ['personality', 'update', 'calm', '--description', 'safe \u202e txt.exe'],
    code: 1,
    says: /description: contains the control or direction-override character U\+202E/,
  },
  {
    name: 'duplicate JSON keys',
    files: { 'p.json': '{"name":"Dup","name":"Other","bigFive":{}}' },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: key "name" appears twice in one object \(line 1\)/,
  },
  {
    name: 'duplicate YAML keys',
    files: { 'p.yaml': 'name: Dup\nname: Other\n' },
    args: ['personality', 'create', '--from', 'p.yaml'],
    code: 1,
    says: /p\.yaml: invalid YAML at line 2/,
  },
  {
    name: 'a __proto__ key in a patch',
    files: { 'patch.json': '{"__proto__":{"name":"Polluted"}}' },
    args: ['personality', 'update', 'calm', '--from', 'patch.json'],
    code: 1,
    says: /__proto__: "__proto__" is not allowed as a key/,
  },
  {
    name: 'a constructor key in a bundle',
    files: {
      'b.json': JSON.stringify({ personalities: [{ id: 'c', name: 'C', bigFive, constructor: { x: 1 } }] }),
    },
    args: ['apply', '-f', 'b.json'],
    code: 1,
    says: /constructor/,
  },
  {
    name: 'a number too large (1e400)',
    files: {
      'p.json': `{"name":"Big","bigFive":{"openness":1e400,"conscientiousness":1,"extraversion":1,"agreeableness":1,"neuroticism":1}}`,
    },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: .*bigFive\.openness: is a number too large to represent/,
  },
  {
    name: 'a deeply nested patch',
    files: { 'patch.json': `${'{"a":'.repeat(200)}1${'}'.repeat(200)}` },
    args: ['personality', 'update', 'calm', '--from', 'patch.json'],
    code: 1,
    says: /patch\.json: a\.a\.a\.a\.a\.a…: is nested more than 64 levels deep/,
  },
  {
    name: 'a nesting too deep to parse',
    files: { 'deep.json': `${'['.repeat(20000)}${']'.repeat(20000)}` },
    args: ['personality', 'create', '--from', 'deep.json'],
    code: 1,
    says: /deep\.json: (nested too deeply to read|0\.0\.0\.0\.0\.0…: is nested more than 64 levels deep)/,
  },
  {
    name: 'a YAML alias bomb',
    files: {
      'bomb.yaml': `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
    },
    args: ['personality', 'create', '--from', 'bomb.yaml'],
    code: 1,
    says: /bomb\.yaml: invalid YAML: .*alias/i,
  },
  {
    name: 'a device file as input',
    args: ['personality', 'create', '--from', '/dev/zero'],
    code: 1,
    says: /\/dev\/zero: cannot read file \(not a regular file\)/,
  },
  {
    name: 'a directory as input',
    files: { 'dir/x.txt': 'x' },
    args: ['personality', 'create', '--from', 'dir'],
    code: 1,
    says: /dir: cannot read file \(is a directory\)/,
  },
  {
    name: 'a missing input file',
    args: ['personality', 'create', '--from', 'nope.json'],
    code: 1,
    says: /nope\.json: cannot read file \(no such file\)/,
  },
  {
    name: 'invalid JSON',
    files: { 'p.json': '{"name": "x",}' },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: invalid JSON/,
  },
  {
    name: 'an array where an object belongs',
    files: { 'p.json': '[1,2]' },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: must hold an object, got an array/,
  },
  // Ids and names.
  {
    name: 'a reserved device name as id',
    args: ['personality', 'create', '--preset', 'calm-analyst', '--id', 'con'],
    code: 1,
    says: /id: is a name Windows reserves for a device/,
  },
  {
    name: 'an id with a path separator',
    args: ['personality', 'create', '--preset', 'calm-analyst', '--id', '../escape'],
    code: 1,
    says: /id: must be a lowercase slug/,
  },
  {
    name: 'an upper-case id',
    args: ['personality', 'show', 'Calm'],
    code: 1,
    says: /Calm/,
  },
  {
    name: 'an unknown trait',
    args: ['personality', 'update', 'calm', '--trait', 'opennes=50'],
    code: 2, // a flag given a value it cannot take
    says: /did you mean "openness"/,
  },
  {
    name: 'a trait out of range',
    args: ['personality', 'update', 'calm', '--trait', 'openness=170'],
    code: 2,
    says: /--trait openness: must be an integer 0–100, got "170"/,
  },
  {
    name: 'a temperature out of range',
    args: ['agent', 'update', 'ada', '--temperature', '3'],
    code: 1,
    says: /model\.temperature: must be a number 0–2, got 3/,
  },
  {
    name: 'an unknown field in a file',
    files: { 'p.json': personality({ mood: 'happy' }) },
    args: ['personality', 'create', '--from', 'p.json'],
    code: 1,
    says: /p\.json: .*unknown field "mood"/,
  },
  // Usage.
  {
    name: 'a hexadecimal --expect-revision',
    args: ['personality', 'update', 'calm', '--trait', 'humor=1', '--expect-revision', '0x1'],
    code: 2,
    says: /--expect-revision.*expected a whole number of at least 1, got "0x1"/,
  },
  {
    name: 'an --expect-revision in exponent form',
    args: ['personality', 'update', 'calm', '--trait', 'humor=1', '--expect-revision', '1e0'],
    code: 2,
    says: /got "1e0"/,
  },
  {
    name: 'a path as run id to recover',
    args: ['workflow', 'recover', '--force', '../x'],
    code: 2,
    says: /--force: not a run id: "\.\.\/x"/,
  },
  {
    name: 'an unknown command',
    args: ['personalty', 'list'],
    code: 2,
    says: /personalty/,
  },
  // References and the consistency model.
  {
    name: 'a delete of a personality one agent uses',
    args: ['personality', 'delete', 'calm'],
    code: 1,
    says: /personality "calm" is used by 2 agents: ada, otto/,
  },
  {
    name: 'an --expect-revision not reached yet',
    args: ['personality', 'update', 'calm', '--trait', 'humor=1', '--expect-revision', '9'],
    code: 1,
    says: /personality "calm" has not reached revision 9 \(expected revision 9, found 1\): no conflict to settle/,
  },
  {
    name: 'an agent on a missing personality',
    args: [
      'agent',
      'create',
      '--name',
      'X',
      '--personality',
      'nobody',
      '--role',
      'reviewer',
      '--model',
      'gpt-4o',
    ],
    code: 1,
    says: /personality "nobody"/,
  },
  {
    name: 'a bundle naming one id twice',
    files: {
      'b.json': JSON.stringify({
        personalities: [
          { id: 'twin', name: 'T', bigFive },
          { id: 'twin', name: 'T2', bigFive },
        ],
      }),
    },
    args: ['apply', '-f', 'b.json'],
    code: 1,
    says: /b\.json: [\s\S]*personalities\[1\]\.id: duplicate id "twin"/,
  },
];
