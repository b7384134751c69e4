// What one read of a key's CloudTrail costs and finds, with the default budget, over a 14-day lookback:
// keys with 1, 10 and 100 consumers sharing 1, 100 or 10,000 calls an hour, and keys where a chatty
// consumer hides a daily one or one that stopped a week ago. Both sources run their real code against a
// synthetic trail in memory (test/helpers/synthetic-trail.ts: generated calls, LookupEvents and
// FilterLogEvents pages as AWS cuts them), so no moto and no AWS. Beside ours, a plain paginator with the
// same budget (newest first for event history, oldest first for the log group) shows what sampling buys.
// Run alone: npm run bench:consumer-evidence (BENCH_TRIALS=20 reads of a rare-consumer scenario, a quarter of that for the others).
import { CloudTrailClient, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, type FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { pathToFileURL } from 'node:url';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { DEFAULT_READ_BUDGET, eventHistorySource, trailLogGroupSource } from '#shared/aws/cloudtrail.ts';
import { parseCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';
import type { CallSourceName, KeyCall, RateGate } from '#shared/aws/key-calls.ts';
import { FIXTURE_KEY } from '../test/helpers/cloudtrail-fixtures.ts';
import { seededRandom, SyntheticTrail, type SyntheticConsumer } from '../test/helpers/synthetic-trail.ts';

const HOUR = 3_600_000;
const TO = Date.parse('2026-11-20T12:00:00Z');
const FROM = TO - 14 * DAY_MS;
const NOW = fixedClock(new Date(TO + DAY_MS));
const REGION = 'us-east-1';

export interface Scenario {
  readonly label: string;
  readonly consumers: number;
  readonly callsPerHour: number;
  /** A consumer the scenario is about (the daily one, the one that stopped): found how often? */
  readonly rare?: string;
  /** Builds the consumers from a trial's random generator (phases differ between trials). */
  readonly build: (random: () => number) => SyntheticConsumer[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly consumers: number;
  readonly callsPerHour: number;
  readonly source: CallSourceName;
  readonly trials: number;
  readonly apiCallsMean: number;
  readonly apiCallsMax: number;
  readonly completeShare: number;
  readonly foundMean: number;
  readonly foundMin: number;
  /** Share of reads that found the scenario's rare consumer (undefined when it has none). */
  readonly rareFound?: number;
  /**
   * Share of rotations whose gate found the rare consumer in any of its first GATE_READS reads (Promote's,
   * then each check's, each sampled afresh): the gate remembers a consumer once seen, so these add up.
   */
  readonly rareFoundByGate?: number;
  /** The same for a plain paginator spending the same budget. */
  readonly pagerFoundMean: number;
  readonly pagerRareFound?: number;
}

const identity = (index: number, name: string): Pick<SyntheticConsumer, 'sourceIp' | 'userAgent'> => ({
  sourceIp: `10.${Math.floor(index / 250)}.${index % 250}.7`,
  userAgent: `${name}-${index}/1.0 (bench)`,
});

function evenConsumers(count: number, callsPerHour: number): Scenario {
  const periodMs = (count * HOUR) / callsPerHour;
  return {
    label: `${count} consumer${count === 1 ? '' : 's'}, even`,
    consumers: count,
    callsPerHour,
    build: (random) =>
      Array.from({ length: count }, (_, index) => ({
        ...identity(index, 'even'),
        periodMs,
        phaseMs: FROM + Math.floor(random() * periodMs),
      })),
  };
}

function chattyPlus(callsPerHour: number, rare: 'daily' | 'stopped'): Scenario {
  const chattyPeriod = HOUR / callsPerHour;
  return {
    label: rare === 'daily' ? 'chatty + daily' : 'chatty + stopped 7 days ago',
    consumers: 2,
    callsPerHour,
    rare: identity(1, rare).userAgent,
    build: (random) => [
      { ...identity(0, 'chatty'), periodMs: chattyPeriod, phaseMs: FROM + Math.floor(random() * chattyPeriod) },
      rare === 'daily'
        ? { ...identity(1, rare), periodMs: DAY_MS, phaseMs: FROM + Math.floor(random() * DAY_MS) }
        : { ...identity(1, rare), periodMs: HOUR, phaseMs: FROM + Math.floor(random() * HOUR), untilMs: FROM + 7 * DAY_MS },
    ],
  };
}

export const SCENARIOS: readonly Scenario[] = [
  ...[1, 10, 100].flatMap((consumers) => [1, 100, 10_000].map((rate) => evenConsumers(consumers, rate))),
  ...[100, 10_000].flatMap((rate) => [chattyPlus(rate, 'daily'), chattyPlus(rate, 'stopped')]),
];

/** A client whose every command is answered in process, before the SDK would sign or send anything. */
function answeredBy<Input extends object, Output extends object>(
  client: { middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void } },
  answer: (input: Input) => Output,
): void {
  const middleware = () => async (args: { input: Input }) => ({ output: { ...answer(args.input), $metadata: {} }, response: {} });
  // `never`: each client's stack is typed by its own union of commands; this one answers the one command the bench sends.
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'bench-synthetic-trail' });
}

/** Counts only: the bench measures calls, and the time they would take at 2 a second is derived from them. */
const openGate: RateGate = { acquire: async () => {} };

function consumersIn(calls: readonly KeyCall[]): Set<string> {
  return new Set(calls.map((call) => call.userAgent));
}

/** A plain paginator with the same budget: first page and on through the tokens until the budget ends. */
function pagerFound(trail: SyntheticTrail, source: CallSourceName): Set<string> {
  const calls: KeyCall[] = [];
  let token: string | undefined;
  for (let page = 0; page < DEFAULT_READ_BUDGET.maxApiCalls; page += 1) {
    if (source === 'event-history') {
      const output = trail.lookupEvents({
        LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: FIXTURE_KEY }],
        StartTime: new Date(FROM),
        EndTime: new Date(TO),
        MaxResults: 50,
        NextToken: token,
      });
      for (const event of output.Events ?? []) calls.push(parseCloudTrailRecord(event.CloudTrailEvent) as KeyCall);
      token = output.NextToken;
    } else {
      const output = trail.filterLogEvents({ filterPattern: `"${FIXTURE_KEY}"`, startTime: FROM, endTime: TO, nextToken: token });
      for (const event of output.events ?? []) calls.push(parseCloudTrailRecord(event.message) as KeyCall);
      token = output.nextToken;
    }
    if (token === undefined) break;
  }
  return consumersIn(calls);
}

/** Promote's read and the first three checks: at the default HEALTH_CHECK_INTERVAL (1h), the gate's first three hours. */
export const GATE_READS = 4;

async function runScenario(scenario: Scenario, source: CallSourceName, trials: number): Promise<ScenarioResult> {
  const apiCalls: number[] = [];
  const found: number[] = [];
  const pager: number[] = [];
  let complete = 0;
  let rareFound = 0;
  let rareFoundByGate = 0;
  let pagerRareFound = 0;
  for (let trial = 0; trial < trials; trial += 1) {
    const random = seededRandom(1_000 * trial + scenario.consumers + scenario.callsPerHour);
    const consumers = scenario.build(random);
    const trail = new SyntheticTrail(FIXTURE_KEY, consumers);
    const cloudtrail = new CloudTrailClient({ region: REGION });
    answeredBy(cloudtrail, (input: LookupEventsCommandInput) => trail.lookupEvents(input));
    const logs = new CloudWatchLogsClient({ region: REGION });
    answeredBy(logs, (input: FilterLogEventsCommandInput) => trail.filterLogEvents(input));
    const reader =
      source === 'event-history'
        ? eventHistorySource({ clientFor: () => cloudtrail, gate: openGate, clock: NOW, random })
        : trailLogGroupSource({ logs, logGroupName: 'aws-cloudtrail-logs-bench', clock: NOW, random });
    const readOnce = () =>
      reader.read({ accessKeyId: FIXTURE_KEY, from: new Date(FROM), to: new Date(TO), regions: [REGION] }, DEFAULT_READ_BUDGET);
    const evidence = await readOnce();
    const seen = consumersIn(evidence.calls);
    if (scenario.rare) {
      let byGate = seen.has(scenario.rare);
      for (let read = 1; read < GATE_READS && !byGate; read += 1) byGate = consumersIn((await readOnce()).calls).has(scenario.rare);
      if (byGate) rareFoundByGate += 1;
    }
    apiCalls.push(evidence.apiCalls);
    // Seeded consumers whose calls fall in the window: one that calls every 100 hours may have none yet.
    found.push(consumers.filter((consumer) => seen.has(consumer.userAgent)).length);
    if (evidence.complete) complete += 1;
    if (scenario.rare && seen.has(scenario.rare)) rareFound += 1;
    const paged = pagerFound(trail, source);
    pager.push(consumers.filter((consumer) => paged.has(consumer.userAgent)).length);
    if (scenario.rare && paged.has(scenario.rare)) pagerRareFound += 1;
    cloudtrail.destroy();
    logs.destroy();
  }
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    scenario: scenario.label,
    consumers: scenario.consumers,
    callsPerHour: scenario.callsPerHour,
    source,
    trials,
    apiCallsMean: mean(apiCalls),
    apiCallsMax: Math.max(...apiCalls),
    completeShare: complete / trials,
    foundMean: mean(found),
    foundMin: Math.min(...found),
    pagerFoundMean: mean(pager),
    ...(scenario.rare
      ? { rareFound: rareFound / trials, rareFoundByGate: rareFoundByGate / trials, pagerRareFound: pagerRareFound / trials }
      : {}),
  };
}

export async function benchConsumerEvidence(
  trials = Number(process.env.BENCH_TRIALS ?? 20),
  log: (text: string) => void = console.error,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    for (const source of ['event-history', 'trail-log-group'] as const) {
      // Evenly shared keys are found whole on every read: a few reads show it; rare consumers need many.
      results.push(await runScenario(scenario, source, scenario.rare ? trials : Math.max(3, Math.ceil(trials / 4))));
    }
    log(`consumer evidence: ${scenario.label} at ${scenario.callsPerHour} calls/hour measured`);
  }
  return results;
}

const percent = (share: number): string => `${Math.round(share * 100)}%`;

export function consumerEvidenceTable(results: readonly ScenarioResult[]): string {
  const lines = [
    `Budget ${DEFAULT_READ_BUDGET.maxApiCalls} API calls a read (DEFAULT_READ_BUDGET), 14-day lookback, one region, against a synthetic trail in memory (no moto). Each row is several reads (column "reads"), each with other phases and sample points. "Plain paging" spends the same budget on consecutive pages (newest first for event history, oldest first for the log group).`,
    '',
    `| key | calls/hour | source | reads | API calls per read (mean, max) | LookupEvents time at 2/s | read complete | consumers found / seeded (mean, worst) | same budget, plain paging | rare one found: ours | rare one: by the gate's first ${GATE_READS} reads | rare one: plain paging |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const result of results) {
    const time = result.source === 'event-history' ? `${(result.apiCallsMean / 2).toFixed(1)} s` : '-';
    lines.push(
      `| ${result.scenario} | ${result.callsPerHour.toLocaleString('en-US')} | ${result.source} | ${result.trials} | ${result.apiCallsMean.toFixed(1)}, ${result.apiCallsMax} | ${time} | ${percent(result.completeShare)} | ${result.foundMean.toFixed(1)} / ${result.consumers}, ${result.foundMin} | ${result.pagerFoundMean.toFixed(1)} / ${result.consumers} | ${result.rareFound === undefined ? '-' : percent(result.rareFound)} | ${result.rareFoundByGate === undefined ? '-' : percent(result.rareFoundByGate)} | ${result.pagerRareFound === undefined ? '-' : percent(result.pagerRareFound)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const results = await benchConsumerEvidence();
  console.log(`\n${consumerEvidenceTable(results)}\n`);
  console.error(`[bench] consumer evidence took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
