import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  dynamodb as defaultDynamodb,
  iam as defaultIam,
  sfn as defaultSfn,
  sns as defaultSns,
  sts as defaultSts,
} from '#shared/aws/clients.ts';
import { organizations as defaultOrganizations } from '#shared/aws/clients/organizations.ts';
import { systemClock, type Clock } from '#shared/base/clock.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { InvalidInputError } from '#shared/base/errors.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { iamWith } from '#shared/aws/clients/iam.ts';
import { securityHub } from '#shared/aws/security-hub.ts';
import { callerAccountId, createNotifier, ledgerFor, type Notifier } from '#shared/notify/notifier.ts';
import { logger as defaultLogger } from '#shared/base/logger.ts';
import { loadOrgScanDefinition } from '#statemachines/definitions.ts';
import { STATES } from '#statemachines/scan-organization.ts';
import {
  selectOrganizationAccounts,
  storeAccountList,
  type AccountList,
  type AccountRef,
  type SkippedAccountRef,
} from '#shared/org/list-accounts.ts';
import { orgScanPage } from '#shared/org/scan-pages.ts';
import { reportOrgScan, type OrgScanReport } from '#shared/org/scan-report.ts';
import {
  AccountResultSchema,
  dynamoOrgScanStore,
  memoryOrgScanStore,
  type AccountResult,
  type OrgScanStore,
} from '#shared/org/scan-store.ts';
import { AccountScanEventSchema, runAccountScan, type AccountScanEvent, type AccountScanOutcome } from '#shared/scan/account-scan.ts';
import * as z from 'zod/mini';
import { requireLocalRunnerNode } from './runner-node.ts';

/**
 * The organization scan, locally: executes statemachines/scan-organization.asl.json with
 * aws-local-stepfunctions, its Tasks bound in-process to the real cores (list-accounts, the page
 * steps, scan-keys for one account, report-org-scan), against AWS_ENDPOINT_URL (moto) or the
 * organization of the current credentials. The Distributed Map runs inline here (the library ignores
 * ProcessorConfig and ToleratedFailurePercentage, so a failed page fails the local run: stricter than
 * AWS), with the same MaxConcurrencyPath, Retry and Catch, and with AWS's 256 KiB state limit.
 */

export interface OrgScanOptions {
  readonly config?: Config;
  readonly clock?: Clock;
  /** Start no rotation, deactivate no key, notify no one (the report is still built). */
  readonly dryRun?: boolean;
  /** The account the rotator runs in (scanned with the caller's own credentials); default: STS GetCallerIdentity. */
  readonly ownAccountId?: string;
  readonly clients?: {
    readonly iam?: IAMClient;
    readonly sfn?: SFNClient;
    readonly sns?: SNSClient;
    readonly dynamodb?: DynamoDBClient;
    readonly sts?: STSClient;
    readonly organizations?: OrganizationsClient;
  };
  /** IAM clients for member accounts; default: signed by the member role, assumed with `clients.sts`. */
  readonly memberIam?: (accountId: string) => Promise<IAMClient>;
  readonly logger?: Logger;
  /** `$$.Execution.Name`: names the report's notification; default: `scan-<UTC day>`, like the deployed schedule. */
  readonly executionName?: string;
  /** Told as each account's scan ends (for a person at a terminal). */
  readonly onAccount?: (outcome: AccountScanOutcome, account: AccountRef) => void;
}

export interface OrgScanRun {
  readonly status: 'Succeeded' | 'Failed';
  readonly executionName: string;
  readonly accounts: readonly AccountRef[];
  readonly skipped: readonly SkippedAccountRef[];
  /** Every account's result as its page recorded it: from scan-keys, or from the Map's Catch. */
  readonly results: readonly AccountResult[];
  readonly report: OrgScanReport | null;
  /** The largest input or output of any state of the run (bytes of UTF-8 JSON), and whose it was. */
  readonly largestState: StateSize;
  readonly error?: { readonly name: string; readonly message: string };
}

export interface StateSize {
  readonly state: string;
  readonly bytes: number;
}

/** Step Functions' cap on a state's input or output, a Task's result included (developer guide, "Service quotas": 256 KiB). */
export const STATE_LIMIT_BYTES = 262_144;

/** What one organization scan runs, as functions (the real cores with their clients, or stand-ins for the size test). */
export interface OrgScanSteps {
  readonly listAccounts: (executionName: string) => Promise<{ readonly list: AccountList; readonly selected: readonly AccountRef[] }>;
  readonly scanAccount: (event: AccountScanEvent) => Promise<AccountScanOutcome>;
  readonly store: OrgScanStore;
  readonly report: (event: unknown) => Promise<OrgScanReport>;
  readonly logger: Logger;
}

/** Every Task of the definition, by state name, and the function it calls: each must be bound, or it would call a real Lambda. */
const BOUND_FUNCTIONS: Readonly<Record<string, string>> = {
  [STATES.ListAccounts]: 'listAccounts',
  [STATES.ReadPage]: 'orgScanPages',
  [STATES.ScanAccount]: 'scanKeys',
  [STATES.RecordPage]: 'orgScanPages',
  [STATES.Report]: 'reportOrgScan',
};

type States = StateMachineDefinition['States'];
type AnyState = States[string];
const processorOf = (state: AnyState): StateMachineDefinition | undefined =>
  state.Type === 'Map'
    ? ((state as { ItemProcessor?: StateMachineDefinition; Iterator?: StateMachineDefinition }).ItemProcessor ??
      (state as { Iterator?: StateMachineDefinition }).Iterator)
    : undefined;

function taskStates(definition: StateMachineDefinition): [string, string][] {
  const found: [string, string][] = [];
  const walk = (states: States): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task')
        found.push([
          name,
          String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? '')
            .split(':')
            .pop() ?? '',
        ]);
      const processor = processorOf(state);
      if (processor) walk(processor.States);
    }
  };
  walk(definition.States);
  return found;
}

/** Where the local run keeps a Map's gathered results that the deployed definition discards (ResultPath null). */
export const LOCAL_GATHERED_PATH = '$.localGatheredResults';

/**
 * The one local transformation of the organization scan: a Map's `ResultPath: null` becomes
 * LOCAL_GATHERED_PATH. AWS counts a Map's gathered results toward the 256 KiB limit although the
 * state discards them (see statemachines/scan-organization.ts); aws-local-stepfunctions shows a state
 * only as its output, so the local run keeps them in it, where the size check below sees them. The
 * states after it pick their fields by Parameters, so the extra field changes nothing else.
 */
export function localGatheredResults(definition: StateMachineDefinition): StateMachineDefinition {
  // A JSON copy, not structuredClone: under Jest the latter builds objects of another realm, which the library does not treat as plain.
  const copy = JSON.parse(JSON.stringify(definition)) as StateMachineDefinition;
  const walk = (states: States): void => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Map' && (state as { ResultPath?: unknown }).ResultPath === null)
        (state as { ResultPath?: string }).ResultPath = LOCAL_GATHERED_PATH;
      const processor = processorOf(state);
      if (processor) walk(processor.States);
    }
  };
  walk(copy.States);
  return copy;
}

/** A state over Step Functions' limit: AWS fails the execution with States.DataLimitExceeded; so does the local run. */
export class StateDataLimitError extends Error {
  override readonly name = 'States.DataLimitExceeded';
}

const jsonBytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8'));

/**
 * Runs statemachines/scan-organization.asl.json (with localGatheredResults) in aws-local-stepfunctions,
 * every Task bound to `steps`, and holds it to AWS's size limit, which the library does not enforce:
 * every state's input and output, and every Task's raw result, is measured, and the first one over
 * 256 KiB stops the run as Failed (States.DataLimitExceeded), as it would stop the execution in AWS.
 */
export async function executeOrgScan(
  steps: OrgScanSteps,
  options: { readonly executionName: string; readonly onAccount?: (outcome: AccountScanOutcome, account: AccountRef) => void },
): Promise<OrgScanRun> {
  const definition = localGatheredResults(loadOrgScanDefinition());
  let listed: { readonly list: AccountList; readonly selected: readonly AccountRef[] } | undefined;
  const results: AccountResult[] = [];
  let report: OrgScanReport | null = null;
  let largest: StateSize = { state: '-', bytes: 0 };
  let tooLarge: StateDataLimitError | undefined;
  const measure = (state: string, value: unknown): void => {
    const bytes = jsonBytes(value);
    if (bytes > largest.bytes) largest = { state, bytes };
    if (bytes > STATE_LIMIT_BYTES && !tooLarge)
      tooLarge = new StateDataLimitError(`The state ${state} holds ${bytes} bytes, over Step Functions' ${STATE_LIMIT_BYTES}-byte limit.`);
  };
  const handlers: Record<string, (payload: unknown) => Promise<unknown>> = {
    [STATES.ListAccounts]: async (payload) => {
      const executionName = (payload as { executionName?: unknown } | undefined)?.executionName;
      if (typeof executionName !== 'string') throw new InvalidInputError(`${STATES.ListAccounts} received no executionName`);
      listed = await steps.listAccounts(executionName);
      return listed.list;
    },
    [STATES.ReadPage]: (payload) => orgScanPage(payload, { store: steps.store, logger: steps.logger }),
    [STATES.ScanAccount]: async (payload) => {
      const parsed = AccountScanEventSchema.safeParse(payload);
      if (!parsed.success) throw new InvalidInputError(`${STATES.ScanAccount} received no { accountId, accountName }`);
      const outcome = await steps.scanAccount(parsed.data);
      options.onAccount?.(outcome, parsed.data);
      return outcome;
    },
    [STATES.RecordPage]: async (payload) => {
      const recorded = await orgScanPage(payload, { store: steps.store, logger: steps.logger });
      const parsed = z.object({ results: z.array(AccountResultSchema) }).safeParse(payload);
      if (parsed.success) results.push(...parsed.data.results);
      return recorded;
    },
    [STATES.Report]: async (payload) => {
      report = await steps.report(payload);
      return report;
    },
  };
  const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<{ Payload: unknown }>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, functionName] of taskStates(definition)) {
    const handler = handlers[stateName];
    if (!handler || BOUND_FUNCTIONS[stateName] !== functionName) {
      throw new Error(`State ${stateName} calls ${functionName}, which local/org-runner.ts does not bind; add it to its handlers.`);
    }
    taskResourceLocalHandlers[stateName] = async (parameters) => {
      measure(`${stateName} (its Lambda's event)`, (parameters as { Payload?: unknown }).Payload);
      const result = await handler((parameters as { Payload?: unknown }).Payload);
      measure(`${stateName} (its Lambda's result)`, { Payload: result });
      return { Payload: result };
    };
    retryIntervalOverrides[stateName] = 10;
  }

  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(
    {},
    {
      context: { Execution: { Name: options.executionName } },
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides },
    },
  );
  const watching = (async () => {
    for await (const event of execution.eventLogs) {
      if (!('state' in event)) continue;
      measure(`${event.state.name} (input)`, event.state.input);
      measure(`${event.state.name} (output)`, event.state.output);
      if (tooLarge) execution.abort();
    }
  })();
  const ran: { error?: unknown } = {};
  try {
    await execution.result;
  } catch (failure) {
    ran.error = failure;
  }
  await watching.catch(() => undefined);
  const base = {
    executionName: options.executionName,
    accounts: listed?.selected ?? [],
    skipped: listed?.list.skipped ?? [],
    results,
    report,
    largestState: largest,
  };
  if (tooLarge) return { ...base, status: 'Failed', report: null, error: { name: tooLarge.name, message: tooLarge.message } };
  if (ran.error !== undefined) {
    const failure = ran.error;
    const cause = failure instanceof Error && failure.cause instanceof Error ? failure.cause : failure;
    const error = cause instanceof Error ? { name: cause.name, message: cause.message } : { name: 'Error', message: String(cause) };
    return { ...base, status: 'Failed', error };
  }
  return { ...base, status: 'Succeeded' };
}

/** Runs the organization scan in-process and returns what each step saw. Throws only when it cannot start (Node too old, a bad configuration). */
export async function runOrganizationScan(options: OrgScanOptions = {}): Promise<OrgScanRun> {
  requireLocalRunnerNode();
  const config = options.config ?? loadConfig(process.env);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? defaultLogger;
  const sts = options.clients?.sts ?? defaultSts;
  const dynamodb = options.clients?.dynamodb ?? defaultDynamodb;
  const ownAccountId = options.ownAccountId ?? (await callerAccountId(sts)());
  const notifier = createNotifier({
    sns: options.clients?.sns ?? defaultSns,
    ledger: ledgerFor(dynamodb, config),
    config,
    accountId: async () => ownAccountId,
    clock,
    logger,
  });
  // Sessions expire in real time: the scan's clock may be moved forward (--as-of, tests), the member role's sessions are not.
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const member = memberAccountClients(memberCredentials(sts, config, systemClock), (credentials) => ({
    iam: iamWith(credentials),
    securityHub: securityHub({ region, credentials }),
  }));
  const memberIam = options.memberIam ?? (async (accountId: string) => (await member(accountId)).iam);
  const ownIam = options.clients?.iam ?? defaultIam;
  // SECURITY_HUB_FINDINGS: each account's findings in its own Security Hub (moto's locally), as the deployed scan keeps them.
  const findings = config.securityHubFindings
    ? {
        securityHub: {
          api: securityHub({ region, credentials: ownIam.config.credentials }),
          accountId: async () => ownAccountId,
          region,
          memberApi: async (accountId: string) => (await member(accountId)).securityHub,
        },
      }
    : {};
  // With the stack's table (deployed, or a test's in moto) the pages go where the Lambdas put them; without one
  // (scan --org against an account) every step runs in this process, so memory serves and no table is created.
  const store = config.notificationLedgerTable === '' ? memoryOrgScanStore() : dynamoOrgScanStore(dynamodb, config.notificationLedgerTable);
  const organizations = options.clients?.organizations ?? defaultOrganizations;

  return executeOrgScan(
    {
      listAccounts: async (executionName) => {
        const selection = await selectOrganizationAccounts({ organizations, config, ownAccountId, logger });
        const list = await storeAccountList(selection, { store, executionName, maxConcurrency: config.orgMaxConcurrentAccounts, clock });
        return { list, selected: selection.selected };
      },
      scanAccount: (event) =>
        runAccountScan(event, {
          sfn: options.clients?.sfn ?? defaultSfn,
          config,
          clock,
          logger,
          ownAccountId,
          ownIam,
          memberIam,
          ...findings,
          notifier,
          dryRun: options.dryRun ?? false,
        }),
      store,
      report: (event) => reportOrgScan(event, { notifier: options.dryRun ? silentNotifier : notifier, config, logger, store }),
      logger,
    },
    { executionName: options.executionName ?? `scan-${clock().toISOString().slice(0, 10)}`, onAccount: options.onAccount },
  );
}

/** Dry runs build the report but tell no one. */
const silentNotifier: Notifier = { send: async () => ({ status: 'suppressed', reason: 'dry run' }) };
