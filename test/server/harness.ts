import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { FileRunLog } from '../../src/orchestration/file-run-log.js';
import { createApp } from '../../src/server/app.js';
import type { Tokens } from '../../src/server/auth.js';
import { type Serving, serveHttp } from '../../src/server/serve.js';
import { FileStore } from '../../src/storage/file/store.js';

export const calm = {
  id: 'calm',
  name: 'Calm',
  bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
};

/** A file store in a fresh directory, its ConfigurationService, and the API over it (in process). */
export async function apiOver(opts: { tokens?: Tokens; maxBodyBytes?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-api-'));
  const store = await FileStore.init(dir);
  const runLog = new FileRunLog(join(dir, '.troupe/runs'));
  const config = new ConfigurationService(store, { runLog });
  const app = createApp({ config, ...opts });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(`/api${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
  };
  return {
    dir,
    store,
    config,
    app,
    call,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The same, listening on a free port of 127.0.0.1 (real connections). */
export async function serving(
  opts: { tokens?: Tokens } = {},
): Promise<Awaited<ReturnType<typeof apiOver>> & { http: Serving }> {
  const api = await apiOver(opts);
  const http = await serveHttp({ config: api.config, port: 0, ...opts });
  return {
    ...api,
    http,
    close: async () => {
      await http.close();
      await api.close();
    },
  };
}
