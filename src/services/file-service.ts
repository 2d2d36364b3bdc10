import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { Agent } from '../domain/agent.js';
import { TroupeError } from '../domain/errors.js';
import {
  configurationHash,
  type ResolvedFile,
  ResolvedFile as ResolvedFileSchema,
} from '../domain/resolved.js';
import type { Store } from '../storage/store.js';
import { EntityReader } from './entity-service.js';

/** Where a materialized configuration disagrees with its agent. */
export interface ResolvedMismatch {
  agentId: string;
  file: string;
  problem: 'missing' | 'checksum' | 'edited' | 'orphaned';
  message: string;
}

/**
 * Files: the materialized resolved configurations (`resolved/<agent>.json`) and the
 * JSON/YAML input files a person writes by hand.
 */
export class FileService extends EntityReader<ResolvedFile> {
  constructor(store: Store) {
    super(store, {
      kind: 'resolved',
      label: 'resolved configuration',
      input: ResolvedFileSchema,
      stored: ResolvedFileSchema,
    });
  }

  /** Compares an agent with its materialized file: present, checksum right, content unedited. */
  check(agent: Agent, file: ResolvedFile | undefined): ResolvedMismatch | undefined {
    const path = `resolved/${agent.id}.json`;
    if (!file) return { agentId: agent.id, file: path, problem: 'missing', message: `${path} is missing` };
    const actual = configurationHash(file.configuration);
    if (actual !== file.checksum) {
      return {
        agentId: agent.id,
        file: path,
        problem: 'edited',
        message: `${path} was edited by hand: its content no longer matches its checksum`,
      };
    }
    if (file.checksum !== agent.configurationHash) {
      return {
        agentId: agent.id,
        file: path,
        problem: 'checksum',
        message: `${path} checksum ${file.checksum.slice(0, 12)}… differs from agent "${agent.id}" configurationHash ${agent.configurationHash.slice(0, 12)}…`,
      };
    }
    return undefined;
  }
}

/** Reads a JSON or YAML file a person wrote; syntax errors name the file, line and column. */
export async function readInputFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${path}: cannot read file (${code === 'ENOENT' ? 'no such file' : code})`,
      {
        cause: e,
        issues: [{ file: path, path: '(file)', message: code === 'ENOENT' ? 'no such file' : String(code) }],
      },
    );
  }
  return parseText(text, path);
}

/** Parses JSON or YAML text (by extension; YAML also reads JSON) with located errors. */
export function parseText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      const m = /position (\d+)/.exec(String((e as Error).message));
      const where = m ? lineCol(text, Number(m[1])) : '';
      throw new TroupeError('VALIDATION_FAILED', `${file}: invalid JSON${where}: ${(e as Error).message}`, {
        issues: [{ file, path: '(file)', message: `invalid JSON${where}` }],
      });
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = first.linePos?.[0];
    const where = pos ? ` at line ${pos.line} column ${pos.col}` : '';
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${file}: invalid YAML${where}: ${yamlMessage(first.message)}`,
      {
        issues: doc.errors.map((err) => ({
          file,
          path: '(file)',
          message: yamlMessage(err.message),
        })),
      },
    );
  }
  return doc.toJS();
}

/** The first line of a yaml error, without the position it repeats (we print our own). */
const yamlMessage = (m: string) =>
  (m.split('\n')[0] ?? 'invalid YAML').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return ` at line ${line} column ${col}`;
}
