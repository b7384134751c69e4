import { CreateAccessKeyCommand, CreateUserCommand, type IAMClient, type Tag } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';

export interface SeedOptions {
  readonly prefix?: string;
  readonly tags?: (index: number) => Tag[];
  readonly path?: string;
  readonly concurrency?: number;
}

/** Creates `count` users with one access key each, in parallel batches; returns their names. */
export async function seedUsers(iam: IAMClient, count: number, options: SeedOptions = {}): Promise<string[]> {
  const prefix = options.prefix ?? 'user';
  const names = Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(4, '0')}`);
  await mapWithConcurrency(names, options.concurrency ?? 16, async (userName, index) => {
    const tags = options.tags?.(index) ?? [];
    await iam.send(new CreateUserCommand({ UserName: userName, Path: options.path ?? '/', ...(tags.length > 0 ? { Tags: tags } : {}) }));
    await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  });
  return names;
}

/** A state machine that does nothing, standing in for the rotation workflow: the scanner only starts it. */
export async function createPassStateMachine(sfn: SFNClient, name = 'rotate-key'): Promise<string> {
  const response = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      roleArn: 'arn:aws:iam::123456789012:role/rotate-key-state-machine',
    }),
  );
  if (!response.stateMachineArn) throw new Error('CreateStateMachine returned no ARN');
  return response.stateMachineArn;
}
