import { writeFile } from 'node:fs/promises';
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

/**
 * Every kind of writing command, over castDir(3) (personalities hub and spare, role reviewer,
 * agents a0–a2 on hub); `BUNDLE` stands for the file writeBundle wrote.
 */
export const COMMANDS: Array<[string, string[]]> = [
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
];

export const withBundle = (args: string[], bundle: string) => args.map((a) => (a === 'BUNDLE' ? bundle : a));
