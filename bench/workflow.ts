// State transitions and Lambda invocations of one rotation, measured by running the real ASL with
// the local runner against moto: the happy path, and the cost of each extra poll of the consumer
// health gate. Run alone: npm run bench:workflow
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { pathToFileURL } from 'node:url';
import { startBenchMoto } from './bench-moto.ts';
import { SimulatedConsumer } from '#local/consumer.ts';
import type { RotationReport } from '#local/runner.ts';
import { STATES } from '#statemachines/rotate-key.ts';

/** AWS Step Functions Standard, us-east-1 public price: $0.025 per 1,000 state transitions. */
export const USD_PER_TRANSITION = 0.025 / 1000;

export interface WorkflowResult {
  readonly happyPath: {
    readonly transitions: number;
    readonly lambdaInvocations: number;
    readonly status: string;
    readonly wallMs: number;
  };
  readonly perExtraPoll: { readonly transitions: number; readonly lambdaInvocations: number };
  readonly costOf1000RotationsUsd: number;
  /** With the defaults (poll every hour, 7-day deadline) a gate that waits to its deadline polls 168 times. */
  readonly costOf1000RotationsAtDeadlineUsd: number;
}

const count = (report: RotationReport) => ({
  transitions: report.states.length,
  lambdaInvocations: report.states.filter((state) => state.type === 'Task').length,
  polls: report.states.filter((state) => state.name === STATES.CheckConsumers).length,
});

export async function benchWorkflow(): Promise<WorkflowResult> {
  const moto = await startBenchMoto();
  try {
    const { runRotation } = await import('#local/runner.ts');
    const { silentLogger } = await import('#shared/base/logger.ts');
    const iam = new IAMClient({ endpoint: moto.endpoint });
    const secretsManager = new SecretsManagerClient({ endpoint: moto.endpoint });
    const logger = silentLogger();
    const durations = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 20_000, observationMs: 100, oldKeyQuietMs: 100 };

    const rotateWithConsumerAfter = async (userName: string, consumerDelayMs: number): Promise<RotationReport> => {
      await iam.send(new CreateUserCommand({ UserName: userName }));
      await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      const consumer = new SimulatedConsumer({
        userName,
        secretId: `iam-key-rotator/${userName}`,
        secretsManager,
        followsRotation: true,
        intervalMs: 20,
      });
      const timer = setTimeout(() => consumer.start(), consumerDelayMs);
      try {
        return await runRotation({ userName, kind: 'scheduled', requestedBy: 'bench', reason: 'bench' }, { durations, logger });
      } finally {
        clearTimeout(timer);
        await consumer.stop();
      }
    };

    const started = performance.now();
    const happy = await rotateWithConsumerAfter('bench-happy', 0);
    const wallMs = performance.now() - started;
    const slow = await rotateWithConsumerAfter('bench-slow', 1_000);
    const [h, s] = [count(happy), count(slow)];
    const extraPolls = Math.max(1, s.polls - h.polls);
    const perExtraPoll = {
      transitions: (s.transitions - h.transitions) / extraPolls,
      lambdaInvocations: (s.lambdaInvocations - h.lambdaInvocations) / extraPolls,
    };
    iam.destroy();
    secretsManager.destroy();
    return {
      happyPath: { transitions: h.transitions, lambdaInvocations: h.lambdaInvocations, status: happy.status, wallMs: Math.round(wallMs) },
      perExtraPoll,
      costOf1000RotationsUsd: 1000 * h.transitions * USD_PER_TRANSITION,
      costOf1000RotationsAtDeadlineUsd: 1000 * (h.transitions + 167 * perExtraPoll.transitions) * USD_PER_TRANSITION,
    };
  } finally {
    await moto.stop();
  }
}

export function workflowTable(result: WorkflowResult): string {
  return [
    '| measure | value |',
    '|---|---:|',
    `| happy path: state transitions | ${result.happyPath.transitions} (${result.happyPath.status}) |`,
    `| happy path: Lambda invocations | ${result.happyPath.lambdaInvocations} |`,
    `| each extra poll of the gate: transitions / invocations | ${result.perExtraPoll.transitions} / ${result.perExtraPoll.lambdaInvocations} |`,
    `| Step Functions cost of 1,000 happy-path rotations | $${result.costOf1000RotationsUsd.toFixed(2)} |`,
    `| … if every gate polled hourly to its 7-day deadline | $${result.costOf1000RotationsAtDeadlineUsd.toFixed(2)} |`,
    `| local wall time of one happy-path rotation (100 ms waits) | ${result.happyPath.wallMs} ms |`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(workflowTable(await benchWorkflow()));
}
