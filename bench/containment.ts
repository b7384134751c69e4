// Containment speed of the compromise fast path: the real ASL run by the local runner against its own
// moto, 10 times. For each run: the time from the trigger (runRotation called) to "leaked key Inactive
// and session-deny policy attached" (the later of the two IAM calls returning), and the number of
// state transitions up to and including the one that contains. Run: npm run bench:containment
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { startMoto } from '#local/moto.ts';

const RUNS = 10;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const moto = await startMoto();
try {
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
  delete process.env.NOTIFICATION_TOPIC_ARN;
  const { runRotation } = await import('#local/runner.ts');
  const secretsManager = new SecretsManagerClient({});
  const logger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });

  // The runner's IAM client, instrumented: when did the two containing calls return?
  const iam = new IAMClient({});
  const returned = new Map<string, number>();
  iam.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'UpdateAccessKeyCommand' || context.commandName === 'PutUserPolicyCommand') {
        if (!returned.has(context.commandName)) returned.set(context.commandName, performance.now());
      }
      return result;
    },
    { step: 'initialize', name: 'containmentTimer' },
  );

  const times: number[] = [];
  const transitions: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const userName = `leaked-${run}`;
    await iam.send(new CreateUserCommand({ UserName: userName }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    const accessKeyId = key.AccessKey?.AccessKeyId ?? '';
    await secretsManager.send(
      new CreateSecretCommand({
        Name: `iam-key-rotator/${userName}`,
        SecretString: JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: key.AccessKey?.SecretAccessKey, UserName: userName, CreatedAt: new Date().toISOString() }),
      }),
    );
    returned.clear();
    const trigger = performance.now();
    const report = await runRotation(
      { userName, accessKeyId, kind: 'compromise', requestedBy: 'bench', reason: 'bench' },
      { logger, clients: { iam }, durations: { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 100, observationMs: 50, oldKeyQuietMs: 50 } },
    );
    const deactivated = returned.get('UpdateAccessKeyCommand');
    const denied = returned.get('PutUserPolicyCommand');
    if (report.status !== 'Succeeded' || deactivated === undefined || denied === undefined) {
      throw new Error(`run ${run} did not contain the key: ${report.status} ${report.error?.name ?? ''}`);
    }
    times.push(Math.max(deactivated, denied) - trigger);
    transitions.push(report.states.findIndex((state) => state.name === 'Contain') + 1);
  }

  const rows = times.map((ms, run) => `  run ${String(run + 1).padStart(2)}: ${ms.toFixed(1).padStart(7)} ms, ${transitions[run] ?? '?'} transitions`);
  console.log(`Compromise fast path, local runner against moto (${RUNS} runs):`);
  console.log(rows.join('\n'));
  console.log(`median trigger -> contained (key Inactive + session-deny policy attached): ${median(times).toFixed(1)} ms`);
  console.log(`state transitions up to containment: ${median(transitions)} (IsCompromise, Contain); containment is the first Task`);
  console.log(`goal: under 1000 ms locally -> ${median(times) < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await moto.stop();
}
