import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, redact } from './redact.js';

describe('redact', () => {
  it('redacts sensitive keys deep, but not *Env keys that name a variable', () => {
    const input = {
      model: {
        provider: 'openai',
        apiKey: 'sk-live-1234567890',
        apiKeyEnv: 'OPENAI_API_KEY',
        maxTokens: 4096,
      },
      headers: [{ Authorization: 'Bearer abcdef' }],
      password: 'hunter22',
      client_secret: { nested: 'x' },
      'api-key': 'k-123456',
      accessToken: 'tok-987654',
      name: 'Ada',
    };
    expect(redact(input)).toEqual({
      model: { provider: 'openai', apiKey: REDACTED, apiKeyEnv: 'OPENAI_API_KEY', maxTokens: 4096 },
      headers: [{ Authorization: REDACTED }],
      password: REDACTED,
      client_secret: REDACTED,
      'api-key': REDACTED,
      accessToken: REDACTED,
      name: 'Ada',
    });
    expect(input.password).toBe('hunter22');
  });

  it('adds extra keys, case-insensitively', () => {
    expect(redact({ ssn: '123', SSN: '456', other: 'ok' }, ['ssn'])).toEqual({
      ssn: REDACTED,
      SSN: REDACTED,
      other: 'ok',
    });
  });

  it('scrubs secrets it has seen out of other strings (an error message quoting a key)', () => {
    const r = new Redactor();
    r.learn({ apiKey: 'sk-live-1234567890' });
    expect(r.redact({ message: 'rejected key sk-live-1234567890 for user' })).toEqual({
      message: `rejected key ${REDACTED} for user`,
    });
    expect(r.redact('sk-live-1234567890')).toBe(REDACTED);
  });
});

describe('a key that is itself a token', () => {
  it('is scrubbed as a value would be: the run log never writes it down', () => {
    const key = 'sk-ant-api03-Zx9vQ2mL7pR4tY8wK1nB6cD3fG5hJ0aS';
    const out = redact({ patch: { behaviors: { [key]: 1, humor: 2 } } });
    expect(JSON.stringify(out)).not.toContain('Zx9vQ2mL7pR4');
    expect(out.patch.behaviors).toEqual({ '[redacted]': 1, humor: 2 });
    const two = redact({ [key]: 1, [key.replace('Zx9', 'Yw8')]: 2 });
    expect(two).toEqual({ '[redacted]': 1, '[redacted]#2': 2 });
  });
});

describe('a value an error message quotes', () => {
  it("is scrubbed when it looks like a key, in an error's message only, never in data that has a message field", () => {
    const azure = '3f9a1c7e5b2d4086a1e9c3b7d5f20e4c';
    const out = redact({
      error: {
        code: 'VALIDATION_FAILED',
        message: `got "${azure}"`,
        issues: [{ path: 'x', message: `got "${azure}"` }],
      },
      output: { message: `build "${azure}" deployed` },
    });
    expect(out.error.message).toBe('got "[redacted]"');
    expect(out.error.issues[0]?.message).toBe('got "[redacted]"');
    expect(out.output.message).toBe(`build "${azure}" deployed`);
  });

  it("is redacted from the error's context as well, where it stands whole; data keeps its ids", () => {
    const key = 'Ab3dE5fG7hI9jK1lM2nO4pQ6rS8tU0vW';
    const out = redact({
      error: {
        code: 'NOT_FOUND',
        message: `model "${key}" not found`,
        context: { id: key, suggestions: [key] },
      },
      doc: { id: key },
    });
    expect(out.error.context).toEqual({ id: '[redacted]', suggestions: ['[redacted]'] });
    expect(out.doc.id).toBe(key);
  });
});

describe('keys pasted where a variable name belongs', () => {
  it('are redacted, while real variable names are kept', () => {
    const out = redact({
      model: { apiKeyEnv: 'sk-proj-abcdefghijklmnopqrstuvwxyz123456' },
      other: { tokenEnv: 'ACME_PRODUCTION_OPENAI_API_KEY_V2', apiKeyEnv: 'OPENAI_API_KEY' },
      message: 'refused sk-proj-abcdefghijklmnopqrstuvwxyz123456 as a name',
    });
    expect(out).toEqual({
      model: { apiKeyEnv: '[redacted]' },
      other: { tokenEnv: 'ACME_PRODUCTION_OPENAI_API_KEY_V2', apiKeyEnv: 'OPENAI_API_KEY' },
      message: 'refused [redacted] as a name',
    });
  });

  it('redactKeyLike: a whole token that looks like a key goes, wherever it is; prose and ids stay', () => {
    const azure = '3f9a1c7e5b2d4086a1e9c3b7d5f20e4c';
    const prose =
      'Personality "Hub": openness high (60), conscientiousness very high (80), neuroticism low (10).';
    const out = new Redactor().redactKeyLike({
      model: { temperature: azure, modelId: 'gpt-4o-2024-08-06' },
      behaviors: { [azure]: 1 },
      systemPrompt: prose,
      runId: '6ca50fc6-f73c-4626-8f42-54e8395e7635',
      digest: 'a'.repeat(64),
    });
    expect(out).toEqual({
      model: { temperature: REDACTED, modelId: 'gpt-4o-2024-08-06' },
      behaviors: { [REDACTED]: 1 },
      systemPrompt: prose,
      runId: '6ca50fc6-f73c-4626-8f42-54e8395e7635',
      digest: 'a'.repeat(64),
    });
  });
});
