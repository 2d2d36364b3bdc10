import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A bundle of a new personality and two agents using it, written to `root/bundle.json`. */
export async function writeBundle(root: string): Promise<string> {
  const file = join(root, 'bundle.json');
  await writeFile(
    file,
    JSON.stringify({
      personalities: [
        {
          id: 'bold',
          name: 'Bold',
          bigFive: {
            openness: 90,
            conscientiousness: 40,
            extraversion: 90,
            agreeableness: 30,
            neuroticism: 40,
          },
        },
      ],
      agents: [0, 1].map((i) => ({
        id: `b${i}`,
        name: `B${i}`,
        personalityId: 'bold',
        roleId: 'reviewer',
        model: { provider: 'openai', modelId: 'gpt-4o' },
      })),
    }),
  );
  return file;
}

/** personalities/hub.json edited by hand (openness 99): its agents are stale until reconciled. */
export async function handEditHub(dir: string): Promise<void> {
  const file = join(dir, 'personalities', 'hub.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as { bigFive: { openness: number } };
  doc.bigFive.openness = 99;
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/**
 * Every kind of writing command, over castDir(3) (personalities hub and spare, role reviewer,
 * agents a0–a2 on hub), some after a step that prepares the directory; `BUNDLE` stands for
 * the file writeBundle wrote.
 */
export const COMMANDS: Array<[string, string[], ((dir: string) => Promise<void>)?]> = [
  ['a cascading personality update', ['personality', 'update', 'hub', '--trait', 'humor=7']],
  [
    'an agent create',
    [
      'agent',
      'create',
      '--name',
      'Zed',
      '--personality',
      'spare',
      '--role',
      'reviewer',
      '--provider',
      'openai',
      '--model',
      'gpt-4o',
    ],
  ],
  ['a bundle apply', ['apply', '-f', 'BUNDLE']],
  ['a delete that reassigns agents', ['personality', 'delete', 'hub', '--reassign', 'spare']],
  ['a cascading role update', ['role', 'update', 'reviewer', '--system-prompt', 'You review code, briefly.']],
  ['an agent delete', ['agent', 'delete', 'a1']],
  ['a cascading delete', ['personality', 'delete', 'hub', '--cascade']],
  ['a personality create', ['personality', 'create', '--preset', 'calm-analyst', '--id', 'calm']],
  ['a role create', ['role', 'create', '--name', 'Scribe', '--system-prompt', 'You write release notes.']],
  ['a reconcile of a hand edit', ['reconcile'], handEditHub],
];

export const withBundle = (args: string[], bundle: string) => args.map((a) => (a === 'BUNDLE' ? bundle : a));
