import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { RotationStatus, StateRecord } from '#local/runner.ts';
import { loadDefinition } from '#statemachines/definitions.ts';
import type { Durations } from '#shared/rotation/deps.ts';
import type { RotationKind } from '#shared/rotation/workflow-state.ts';
import { FAULTS, FaultInjector, taskWrapper, type Fault, type FaultRule, type SdkCall } from '../helpers/faults.ts';
import { endStateViolations, KeySampler, liveKeys, type RunRecord } from '../helpers/invariants.ts';
import { LeakScanner } from '../helpers/leak-scan.ts';
import { faultedClients, recordedRun, startConsumer } from '../helpers/recorded-run.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { createUser, seedSecret } from '../helpers/rotation-fixtures.ts';

// The fault matrix: every Task state of statemachines/rotate-key.asl.json (read at test time, so new
// steps are covered as they land) × every fault, each cell a local run of the real workflow against
// moto with a consumer following the rotation. Transient faults must be absorbed by the ASL's Retry;
// a crash after an AWS call succeeded fails the run, which is then redriven (run again for the same
// key, as a person would). After every cell the rotation's invariants are checked.

const consumerSecrets = new SecretsManagerClient({});
const leak = new LeakScanner();
const sampler = new KeySampler();

const definition = loadDefinition();
const functionOf = (state: unknown): string =>
  String((state as { Parameters?: { FunctionName?: unknown } }).Parameters?.FunctionName ?? '')
    .split(':')
    .pop() ?? '';
// A `.waitForTaskToken` Task (AwaitConfirmation) is deployed-only: local runs confirm by tag and never
// enter it (aws-local-stepfunctions has no callbacks); test/unit/statemachines/await-confirmation.test.ts covers its routing.
const TASK_STATES = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Task' && !String((state as { Resource?: unknown }).Resource).endsWith('.waitForTaskToken'))
  .map(([name]) => name);
const HAS_COMPROMISE_PATH = Object.values(definition.States).some(
  (state) => state.Type === 'Task' && functionOf(state) === 'rotateContain',
);

// The consumers' health endpoints, one per user: 503 once the user's consumer broke, else 200.
const brokenConsumers = new Set<string>();
let healthServer: Server | undefined;
let healthOrigin = '';
/** The run's configuration: health URLs are allowed on the local endpoint's origin only. */
let config: Config | undefined;

async function userWithConsumer(userName: string, scenario: Scenario) {
  const tags: Record<string, string> = { 'rotation:owner': `${userName}@example.com` };
  if (scenario.consumerBreaksAtCut) {
    tags['rotation:health-checks'] = 'http';
    tags['rotation:health-check-urls'] = `${healthOrigin}/health/${userName}`;
  }
  const seed = await createUser(userName, tags);
  leak.addSecret(seed.secretAccessKey, seed.accessKeyId);
  await seedSecret(userName, seed);
  // A retirement waits for a quiet key: a consumer calling all along would hold it to its deadline. One
  // call just before makes its first check wait, so the quiet loop (CheckQuiet) runs too.
  if (scenario.kind === 'retire')
    await new STSClient({ credentials: { accessKeyId: seed.accessKeyId, secretAccessKey: seed.secretAccessKey } }).send(
      new GetCallerIdentityCommand({}),
    );
  const consumer =
    scenario.kind === 'retire' ? { stop: async () => undefined } : startConsumer(userName, consumerSecrets, !scenario.stuckConsumer);
  return { seed, consumer };
}

function breaksAtCut(scenario: Scenario, userName: string): (record: StateRecord) => void {
  return (record) => {
    if (scenario.consumerBreaksAtCut && record.name === 'Deactivate') brokenConsumers.add(userName);
  };
}

const FAST: Partial<Durations> = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 4_000, observationMs: 50, oldKeyQuietMs: 50 };

interface Scenario {
  readonly name: string;
  readonly kind: RotationKind;
  readonly durations: Partial<Durations>;
  /** What a clean run of the scenario ends with. */
  readonly expected: RotationStatus;
  /** Faults that shape the scenario itself (e.g. a refused permission that sends it down the failure path). */
  readonly shaping?: readonly FaultRule[];
  /**
   * The consumer's health URL (the user's http check) fails once the old key is deactivated: the
   * observation sees trouble. (Not a job using the Inactive key: AWS refuses and records nothing of it.)
   */
  readonly consumerBreaksAtCut?: boolean;
  /** The consumer keeps its first key: the gate never passes. */
  readonly stuckConsumer?: boolean;
}

// In order of preference: a state is exercised in the first scenario that reaches it.
const SCENARIOS: readonly Scenario[] = [
  { name: 'happy path', kind: 'scheduled', durations: FAST, expected: 'Succeeded' },
  ...(HAS_COMPROMISE_PATH ? [{ name: 'compromise', kind: 'compromise' as const, durations: FAST, expected: 'Succeeded' as const }] : []),
  {
    name: 'consumers never move',
    kind: 'scheduled',
    durations: { ...FAST, healthCheckDeadlineMs: 300 },
    expected: 'NeedsAttention',
    stuckConsumer: true,
  },
  {
    name: 'consumer fails after the cut',
    kind: 'scheduled',
    durations: { ...FAST, observationMs: 4_000 },
    expected: 'RolledBack',
    consumerBreaksAtCut: true,
  },
  // On a busy machine more than a second can pass between the call made just before and the first
  // check, which then finds the key quiet and CheckQuiet never runs: a 2 s quiet period keeps it waiting.
  {
    name: 'retirement',
    kind: 'retire',
    durations: { ...FAST, oldKeyQuietMs: 2_000, healthCheckDeadlineMs: 8_000 },
    expected: 'Succeeded',
  },
  {
    name: 'STS refuses the new key',
    kind: 'manual',
    durations: FAST,
    expected: 'Failed',
    shaping: [{ fault: 'access-denied', command: 'GetCallerIdentityCommand', state: 'Verify', occurrence: 1 }],
  },
];

/** The AWS call of a step that a fault hits: its most consequential write, else its first call. */
const PRIORITY = [
  'CreateAccessKeyCommand',
  'UpdateAccessKeyCommand',
  'DeleteAccessKeyCommand',
  'PutUserPolicyCommand',
  'UpdateSecretVersionStageCommand',
  'PutSecretValueCommand',
  'PublishCommand',
  'GetCallerIdentityCommand',
];
function targetCommand(calls: readonly SdkCall[], state: string): string | undefined {
  const made = calls.filter((call) => call.state === state && call.ok).map((call) => call.command);
  return (
    PRIORITY.find((command) => made.includes(command)) ??
    made.find((command) => /^(Put|Create|Update|Delete|Attach|Tag)/.test(command)) ??
    made[0]
  );
}

interface Discovery {
  readonly scenario: Scenario;
  readonly visited: ReadonlySet<string>;
  readonly calls: readonly SdkCall[];
}
const discoveries: Discovery[] = [];
/** Cell results: state → fault → text. */
const matrix = new Map<string, Map<Fault, string>>();
let userCounter = 0;

interface CellResult {
  readonly text: string;
  readonly violations: readonly string[];
  readonly problems: readonly string[];
}

async function runCell(
  scenario: Scenario,
  state: string | undefined,
  fault: Fault | 'none',
  target: string | undefined,
): Promise<CellResult> {
  userCounter += 1;
  const userName = `fm-${userCounter}-${(state ?? scenario.name).replace(/[^A-Za-z]/g, '').slice(0, 20)}`;
  const { seed, consumer } = await userWithConsumer(userName, scenario);
  const rules: FaultRule[] = [...(scenario.shaping ?? [])];
  if (fault !== 'none' && fault !== 'twice' && state !== undefined && target !== undefined)
    rules.push({ fault, command: target, state, occurrence: 1 });
  const injector = new FaultInjector(rules);
  const clients = faultedClients(injector, leak);
  const wrapper = taskWrapper(injector, fault === 'twice' && state !== undefined ? { state } : undefined);
  const input = {
    userName,
    accessKeyId: seed.accessKeyId,
    kind: scenario.kind,
    requestedBy: 'fault matrix',
    reason: `${state ?? 'baseline'} × ${fault}`,
  };
  const runs: RunRecord[] = [];
  let oldKeyGoneBeforeRedrive = false;
  try {
    runs.push(
      await recordedRun(input, {
        leak,
        sampler,
        clients,
        durations: scenario.durations,
        wrapper,
        onState: breaksAtCut(scenario, userName),
        config,
      }),
    );
    const first = runs[0]?.report;
    if (first?.status === 'Failed') {
      oldKeyGoneBeforeRedrive = !(await liveKeys(userName)).some((key) => key.accessKeyId === seed.accessKeyId);
      // Redrive: the same rotation again, without faults, as a person would after reading the failure.
      injector.setRules([]);
      brokenConsumers.delete(userName);
      runs.push(
        await recordedRun(input, { leak, sampler, clients, durations: scenario.durations, wrapper: taskWrapper(injector), config }),
      );
    }
  } finally {
    await consumer.stop();
  }
  const violations = [
    ...(await sampler.violations()),
    ...(await endStateViolations({
      userName,
      originalKeyId: seed.accessKeyId,
      compromise: scenario.kind === 'compromise',
      retirement: scenario.kind === 'retire',
      runs,
      calls: injector.calls,
    })),
  ];
  const statuses = runs.map((run) => `${run.report.status}${run.report.error ? ` (${run.report.error.name})` : ''}`);
  const problems: string[] = [];
  const firstStatus = runs[0]?.report.status;
  if (fault === 'twice' && wrapper.duplicates() === 0) problems.push(`${state ?? ''} was never delivered twice`);
  if (fault !== 'none' && fault !== 'twice' && !injector.fired.some((call) => call.state === state && call.fault === fault)) {
    problems.push(`the ${fault} fault on ${target ?? '?'} never fired`);
  }
  if (
    (fault === 'throttling' || fault === '5xx' || fault === 'timeout' || fault === 'twice' || fault === 'none') &&
    firstStatus !== scenario.expected
  ) {
    problems.push(`expected the run to end ${scenario.expected} despite the fault, got ${statuses.join(' → ')}`);
  }
  if (fault === 'crash-after' && firstStatus !== 'Failed')
    problems.push(`a crash after ${target ?? '?'} should fail the run, got ${statuses.join(' → ')}`);
  const redrive = runs[1]?.report;
  if (
    redrive &&
    !(redrive.status === redriveExpected(scenario) || (oldKeyGoneBeforeRedrive && redrive.error?.name === 'AccessKeyNotFoundError'))
  ) {
    problems.push(`the redrive should end ${redriveExpected(scenario)} (or find the old key already gone), got ${statuses.join(' → ')}`);
  }
  const ok = violations.length === 0 && problems.length === 0;
  return { text: `${ok ? 'pass' : 'FAIL'}: ${statuses.join(' → redrive ')}`, violations, problems };
}

/** A redrive runs without faults and with a healthy consumer: a scenario that failed or rolled back because of them succeeds. */
function redriveExpected(scenario: Scenario): RotationStatus {
  return scenario.expected === 'Failed' || scenario.consumerBreaksAtCut ? 'Succeeded' : scenario.expected;
}

function scenarioFor(state: string): Discovery | undefined {
  return discoveries.find((discovery) => discovery.visited.has(state));
}

beforeAll(async () => {
  healthServer = createServer((request, response) => {
    const userName = decodeURIComponent(request.url?.split('/').pop() ?? '');
    response.statusCode = brokenConsumers.has(userName) ? 503 : 200;
    response.end();
  });
  const server = healthServer;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  healthOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config = loadConfig(process.env, { HEALTH_CHECK_URL_ORIGINS: healthOrigin });

  // Discovery: one clean run per scenario, recording which states it visits and the AWS calls each makes.
  for (const scenario of SCENARIOS) {
    // Prepare: a user with a seeded secret, its consumer, and the scenario's shaping faults.
    userCounter += 1;
    const userName = `fm-discover-${userCounter}`;
    const { seed, consumer } = await userWithConsumer(userName, scenario);
    const injector = new FaultInjector(scenario.shaping ?? []);

    // Act
    const run = await recordedRun(
      { userName, accessKeyId: seed.accessKeyId, kind: scenario.kind, requestedBy: 'fault matrix', reason: 'discovery' },
      {
        leak,
        sampler,
        clients: faultedClients(injector, leak),
        durations: scenario.durations,
        wrapper: taskWrapper(injector),
        onState: breaksAtCut(scenario, userName),
        config,
      },
    ).finally(() => consumer.stop());
    expect(run.report.status).toBe(scenario.expected);
    discoveries.push({ scenario, visited: new Set(run.report.states.map((record) => record.name)), calls: injector.calls });
  }
}, 60_000);

afterAll(async () => {
  const server = healthServer;
  if (server) await new Promise((resolve) => server.close(resolve));
  const header = `| Task state (scenario) | ${FAULTS.join(' | ')} |`;
  const rule = `|${'---|'.repeat(FAULTS.length + 1)}`;
  const rows = TASK_STATES.map((state) => {
    const cells = matrix.get(state);
    const scenario = scenarioFor(state)?.scenario.name ?? 'not reached';
    return `| ${state} (${scenario}) | ${FAULTS.map((fault) => cells?.get(fault) ?? 'not run').join(' | ')} |`;
  });
  const text = [
    '# Fault matrix',
    '',
    `Each cell: a local run against moto with the fault injected into the step's first call of its most consequential AWS command; "→ redrive" is the run again for the same key. Invariants checked after every cell. Key samples: ${sampler.samples}.`,
    '',
    header,
    rule,
    ...rows,
    '',
  ].join('\n');
  mkdirSync('.test-results', { recursive: true });
  writeFileSync('.test-results/fault-matrix.md', text);
  console.log(text);
});

describe('the fault matrix: every step of the workflow × every fault', () => {
  test('every Task state of the workflow is reached by one of the scenarios, so every step gets its row', () => {
    // Assess: what the discovery runs in beforeAll visited.
    const unreached = TASK_STATES.filter((state) => scenarioFor(state) === undefined);

    expect(unreached).toEqual([]);
  });

  for (const state of TASK_STATES) {
    test(`${state} keeps every invariant under throttling, a 5xx, a network timeout, a crash after its AWS call and a second delivery`, async () => {
      // Prepare
      const discovery = scenarioFor(state);
      expect(discovery).toBeDefined();
      if (!discovery) return;
      const target = targetCommand(discovery.calls, state);
      const row = new Map<Fault, string>();
      matrix.set(state, row);

      // Act
      const results = await Promise.all(
        FAULTS.map(async (fault) => {
          if (target === undefined && fault !== 'twice')
            return { fault, result: { text: 'n/a (no AWS call)', violations: [], problems: [] } };
          const result = await runCell(discovery.scenario, state, fault, target);
          row.set(fault, result.text);
          return { fault, result };
        }),
      );

      // Assess
      const failures = results.flatMap(({ fault, result }) =>
        [...result.violations, ...result.problems].map((text) => `${fault}: ${text}`),
      );
      expect(failures).toEqual([]);
    }, 60_000);
  }

  test('no secret access key created during the matrix appears in logs, state data, reports or SNS messages', async () => {
    // Act: scan what the matrix logged, captured and published for the secrets it created.
    const findings = await leak.findings();

    // Assess
    expect(leak.stats().secrets).toBeGreaterThan(TASK_STATES.length);
    expect(findings).toEqual([]);
  });
});
