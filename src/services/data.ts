import { readFileSync } from 'node:fs';

/** Loads one of the JSON files shipped in the package's data/ folder (same path from src/ and dist/). */
export function loadShipped<T>(name: 'roles' | 'personalities' | 'models'): T[] {
  return JSON.parse(readFileSync(new URL(`../../data/${name}.json`, import.meta.url), 'utf8')) as T[];
}
