import { describe, expect, it } from 'vitest';
import {
  containsSecret,
  looksLikeSecret,
  SECRET_FORMATS,
  scrubMessage,
  scrubSecrets,
  secretFormatsIn,
  secretPaths,
} from './secrets.js';

// One sample per format (made up, with the shape of the real thing), and text it must not flag.
const samples: Record<string, string> = {
  'Anthropic API key': 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd',
  'OpenAI API key': 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx',
  'Stripe key': 'sk_live_51HabcdefGHIJKLmnopQRST',
  'GitHub token': 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'GitHub fine-grained token': 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
  'GitLab token': 'glpat-abcdefghij0123456789',
  'Slack token': 'xoxb-1234567890-abcdefghij',
  'AWS access key id': 'AKIAIOSFODNN7EXAMPLE',
  'AWS secret access key': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'Google API key': 'AIzaSyAbCdEfGhIjKlMnOpQrStUvWxYz0123456',
  'xAI, Groq or Hugging Face token': 'hf_abcdefghijklmnopqrstuvwx',
  'JSON Web Token':
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'Bearer token': 'Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg',
  'private key': '-----BEGIN RSA PRIVATE KEY-----',
  'credentials in a URL': 'https://admin:hunter2hunter2@db.example.com/',
  'key in a URL query': 'https://api.example.com/v1?api_key=abc123def456',
  '40-character hex token': '0123456789ABCDEF0123456789ABCDEF01234567',
};

describe('the secret detector', () => {
  it('has a sample for every format it knows', () => {
    expect(Object.keys(samples).sort()).toEqual(SECRET_FORMATS.map((f) => f.name).sort());
  });

  it.each(Object.entries(samples))('finds a %s inside a sentence and scrubs it', (name, secret) => {
    const text = `Use ${secret} for the call.`;
    expect(secretFormatsIn(text)).toContain(name);
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toContain('[redacted]');
    expect(containsSecret(scrubbed)).toBe(false);
  });

  it.each([
    'You review code carefully. Keep answers under 400 words.',
    'See https://docs.example.com/guide/getting-started and http://localhost:11434',
    'configurationHash 3d20300f6138400e9bba28a9b4427349b1ebda6da945eebee0918603c3308232',
    'ACME_PRODUCTION_OPENAI_API_KEY_V2',
    'task-2f6c0a1e-1b2c-4d5e-8f90-123456789abc',
    'stop at "###" or "</answer>"',
    // A prefix inside a word is no key: sk- in desk-…, a bearer without a token.
    'a desk-organizer-with-many-compartments and a task-force-assignment-planning',
    'the bearer responsibilities-and-duties-of-office',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(containsSecret(text)).toBe(false);
    expect(scrubSecrets(text)).toBe(text);
  });

  it.each([
    ['glued to a word by _', 'x_sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234'],
    ['glued to a word', 'tokenghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['after a scheme glued to a word', 'db_https://admin:hunter2hunter2@db.example.com/'],
    ['in a header', 'Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg'],
    ['as a lowercase bearer', 'bearer abcdefghij0123456789abcdef'],
  ])('finds a key %s: %s', (_, text) => {
    expect(containsSecret(text)).toBe(true);
    expect(scrubSecrets(text)).toContain('[redacted]');
  });

  it('scrubs a text as often as it comes, though clean ones are remembered', () => {
    const secret = samples['OpenAI API key']!;
    const clean = 'the same description, in event after event';
    for (let i = 0; i < 3; i++) {
      expect(scrubSecrets(clean)).toBe(clean);
      expect(scrubSecrets(`key ${secret}`)).toBe('key [redacted]');
    }
    // Far more clean texts than are remembered: each is still answered, and a secret still found.
    for (let i = 0; i < 20_000; i++) expect(scrubSecrets(`text ${i}`)).toBe(`text ${i}`);
    expect(scrubSecrets(`key ${secret}`)).toBe('key [redacted]');
  });

  it('tells a key from a variable name in *Env fields', () => {
    for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ACME_PRODUCTION_OPENAI_API_KEY_V2'])
      expect(looksLikeSecret(name), name).toBe(false);
    for (const key of [
      'AKIAIOSFODNN7EXAMPLE',
      '0123456789ABCDEF0123456789ABCDEF01234567',
      samples['OpenAI API key']!,
    ])
      expect(looksLikeSecret(key), key).toBe(true);
  });

  it('names the path of every string that carries one, never the value', () => {
    const paths = secretPaths({
      name: 'Ada',
      model: {
        baseUrl: samples['credentials in a URL'],
        stop: ['###', samples['Slack token']],
        apiKeyEnv: 'AKIAIOSFODNN7EXAMPLE',
      },
      constraints: { tone: `friendly ${samples['GitHub token']}` },
    });
    expect(paths.sort()).toEqual(['constraints.tone', 'model.apiKeyEnv', 'model.baseUrl', 'model.stop.1']);
  });

  it('scrubs from an error message a value it quotes that looks like a key of no known format', () => {
    const azure = '3f9a1c7e5b2d4086a1e9c3b7d5f20e4c'; // 32 hex digits, as an Azure OpenAI key
    const random = 'Zq9mK2pLx7vN4wR8tY1uE6iO3aS5dF0g';
    const lower = 'k3j5h6g7f8d9s0a1q2w3e4r5t6y7u8i9o0p1l2m3';
    for (const key of [azure, random, lower])
      expect(scrubMessage(`model.temperature: must be a number 0–2, got "${key}"`)).toBe(
        'model.temperature: must be a number 0–2, got "[redacted]"',
      );
    // What a message names on purpose stays: model names, paths, words, short ids.
    for (const text of [
      'model "anthropic/claude-3-5-sonnet-20241022-v2" not found',
      'model "claude-3-5-sonnet-20241022-v2-extended" not found',
      'personality "steady-analyst-for-long-research-sessions" not found',
      'field "configurationHash" is set by troupe',
      'model "DeepSeek-R1-Distill-Qwen-32B-Instruct" not found',
      'expected "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"', // a SHA-256
      'name "ThisIsAVeryLongCamelCaseIdentifier2" is taken',
      'azure-openai model "gpt4o_mini_2024_07_18_deploy_eastus" not found',
      'personality "release-candidate20241105build42" not found',
      // Paths and URLs in a quoted text of several words: judged part by part.
      'step failed: "cp /Users/Alice/Projects2024/troupe/config/agents/ada.json /backup" exited 1',
      'systemPrompt "Follow https://docs.example.com/API/v2/Reference2024 strictly" is too long',
    ])
      expect(scrubMessage(text)).toBe(text);
    // A word of a quoted text of several words, and a part of a path in one.
    expect(scrubMessage(`got "key ${azure}" for temperature`)).toBe('got "key [redacted]" for temperature');
    expect(scrubMessage(`got "Bearer ${azure}" for temperature`)).toBe('got "[redacted]" for temperature');
    expect(scrubMessage(`step failed: "cp /tmp/${lower}/a.json /b" exited 1`)).toBe(
      'step failed: "cp /tmp/[redacted]/a.json /b" exited 1',
    );
    expect(scrubMessage(`key ${samples['OpenAI API key']}`)).toBe('key [redacted]');
    // Pasted with blanks around it, or with dots in it (a Google OAuth token): scrubbed too.
    expect(scrubMessage(`got "${random} "`)).toBe('got "[redacted]"');
    expect(scrubMessage(`agent "${random}\\n" not found`)).toBe('agent "[redacted]" not found');
    expect(scrubMessage('model "ya29.a0AfH6SMBxQ9kLm2pR7vN4wT8yU1iO3aS5dF0gHjK" not found')).toBe(
      'model "[redacted]" not found',
    );
    // A part of a path named in a message (a directory named by a pasted key); other parts stay.
    expect(scrubMessage(`/tmp/${lower}/cfg is not a troupe directory`)).toBe(
      '/tmp/[redacted]/cfg is not a troupe directory',
    );
    expect(scrubMessage(`could not read /tmp/${random}.json: ENOENT`)).toBe(
      `could not read /tmp/${random}.json: ENOENT`.replace(`${random}.json`, '[redacted]'),
    );
    for (const text of [
      '/tmp/troupe-cli-AbC123/cfg/personalities/steady-analyst-for-long-research-sessions.json: invalid',
      'could not write /work/main/.troupe-config/agents/ada.json: EPERM',
      'rename /tmp/ro/agents/.a2.json.1420-fad1f68a.tmp -> /tmp/ro/agents/a2.json',
    ])
      expect(scrubMessage(text)).toBe(text);
  });
});

describe('the secret detector on long text', () => {
  // A pattern tried from every character of a long run, each try running to its end, costs the
  // length squared: 40,000 letters took 0.7 s a scan, so these 400,000 would take over a minute,
  // past the suite's timeout (a few milliseconds when linear).
  it.each([
    ['letters', 'y'.repeat(400_000)],
    ['a scheme before them', `a://${'y'.repeat(400_000)}`],
    ['a user before them', `https://u:${'y'.repeat(400_000)}`],
    ['words with dots', 'a.'.repeat(200_000)],
  ])('scans %s once, finding no key in them', (_, text) => {
    expect(containsSecret(text)).toBe(false);
    expect(scrubSecrets(text)).toBe(text);
  });
});
