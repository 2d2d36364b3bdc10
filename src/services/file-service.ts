import { extname } from 'node:path';
import type * as Yaml from 'yaml';
import type { Agent } from '../domain/agent.js';
import { TroupeError } from '../domain/errors.js';
import { duplicateJsonKey } from '../domain/json-keys.js';
import { lazyModule } from '../domain/lazy.js';
import {
  configurationHash,
  type ResolvedFile,
  ResolvedFile as ResolvedFileSchema,
} from '../domain/resolved.js';
import { deepPath, nestedDeeperThan } from '../domain/text.js';
import type { Store } from '../storage/store.js';
import { EntityReader, entityFile } from './entity-service.js';
import { readTextBounded } from './input-file.js';
import { oddRevision } from './yaml-revisions.js';

const yaml = lazyModule<typeof Yaml>('yaml');

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
 *
 * @example
 * ```ts
 * const { agents, files } = createServices(store);
 * const ada = await agents.require('ada');
 * const mismatch = files.check(ada, await files.get('ada'));
 * if (mismatch) console.error(mismatch.message); // missing, edited by hand, or an older checksum
 * ```
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
    const path = entityFile('resolved', agent.id, this.store);
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
  return parseText(await readTextBounded(path), path);
}

/** Parses JSON or YAML text (by extension; YAML also reads JSON) with located errors. */
export function parseText(text: string, file: string): unknown {
  const value = parseTextOnly(text, file);
  // Said here, where the file is known: deeper down only the run knows it was "its input".
  // (Its path found only then: a large bundle is walked once, cheaply.)
  const deep = nestedDeeperThan(value, INPUT_FILE_DEPTH) ? deepPath(value, INPUT_FILE_DEPTH) : undefined;
  if (deep !== undefined) {
    const message = `is nested more than ${INPUT_FILE_DEPTH} levels deep`;
    throw new TroupeError('VALIDATION_FAILED', `${file}: ${deep}: ${message}`, {
      issues: [{ file, path: deep, message }],
    });
  }
  return value;
}

/** How deep an input file may nest: an entity may nest MAX_DEPTH levels, in a bundle two more. */
const INPUT_FILE_DEPTH = 64;

function parseTextOnly(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      const value = JSON.parse(text);
      const dup = duplicateJsonKey(text);
      if (dup)
        throw new TroupeError(
          'VALIDATION_FAILED',
          `${file}: key "${dup.key}" appears twice in one object (line ${dup.line})`,
          {
            issues: [{ file, path: dup.key, message: `appears twice in one object (line ${dup.line})` }],
          },
        );
      return value;
    } catch (e) {
      if (e instanceof TroupeError) throw e;
      if (e instanceof RangeError) throw tooDeep(file);
      const m = /position (\d+)/.exec(String((e as Error).message));
      const where = m ? lineCol(text, Number(m[1])) : '';
      throw new TroupeError('VALIDATION_FAILED', `${file}: invalid JSON${where}: ${(e as Error).message}`, {
        issues: [{ file, path: '(file)', message: `invalid JSON${where}` }],
      });
    }
  }
  const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: true });
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
  const odd = oddRevision(yaml(), doc);
  if (odd) {
    const message = `must be written in decimal digits, not ${JSON.stringify(odd.source)} (YAML would read it as another number)`;
    throw new TroupeError('VALIDATION_FAILED', `${file}: ${odd.path}: ${message}`, {
      issues: [{ file, path: odd.path, message }],
    });
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(file);
    // e.g. "Excessive alias count indicates a resource exhaustion attack"
    const message = yamlMessage((e as Error).message);
    throw new TroupeError('VALIDATION_FAILED', `${file}: invalid YAML: ${message}`, {
      cause: e,
      issues: [{ file, path: '(file)', message }],
    });
  }
}

const tooDeep = (file: string) =>
  new TroupeError('VALIDATION_FAILED', `${file}: nested too deeply to read`, {
    issues: [{ file, path: '(file)', message: 'nested too deeply to read' }],
  });

/** The first line of a yaml error, without the position it repeats (we print our own). */
const yamlMessage = (m: string) =>
  (m.split('\n')[0] ?? 'invalid YAML').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return ` at line ${line} column ${col}`;
}
