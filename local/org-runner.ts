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
import { ConfigError, InvalidInputError } from '#shared/base/errors.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { iamWith } from '#shared/aws/clients/iam.ts';
import { callerAccountId, createNotifier, ledgerFor, type Notifier } from '#shared/notify/notifier.ts';
import { logger as defaultLogger } from '#shared/base/logger.ts';
import { loadOrgScanDefinition } from '#statemachines/definitions.ts';
import { STATES } from '#statemachines/scan-organization.ts';
import { listAccounts, type AccountList, type AccountRef, type SkippedAccountRef } from '#shared/org/list-accounts.ts';
import { reportOrgScan, type OrgScanReport } from '#shared/org/scan-report.ts';
import { AccountScanEventSchema, runAccountScan, type AccountScanOutcome } from '#shared/scan/account-scan.ts';

/**
 * The organization scan, locally: executes statemachines/scan-organization.asl.json with
 * aws-local-stepfunctions, its three Tasks bound in-process to the real cores (list-accounts,
 * scan-keys for one account, report-org-scan), against AWS_ENDPOINT_URL (moto) or the organization
 * of the current credentials. The Distributed Map runs inline here (the library ignores
 * ProcessorConfig), with the same MaxConcurrencyPath, Retry and Catch.
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
  readonly results: readonly AccountScanOutcome[];
  readonly report: OrgScanReport | null;
  readonly error?: { readonly name: string; readonly message: string };
}

/** Every Task of the definition, by state name, and the function it calls: each must be bound, or it would call a real Lambda. */
const BOUND_FUNCTIONS: Readonly<Record<string, string>> = {
  [STATES.ListAccounts]: 'listAccounts',
  [STATES.ScanAccount]: 'scanKeys',
  [STATES.Report]: 'reportOrgScan',
};

function taskStates(definition: StateMachineDefinition): [string, string][] {
  const found: [string, string][] = [];
  const walk = (states: StateMachineDefinition['States']): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task')
        found.push([
          name,
          String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? '')
            .split(':')
            .pop() ?? '',
        ]);
      if (state.Type === 'Map') {
        const processor =
          (state as { ItemProcessor?: StateMachineDefinition; Iterator?: StateMachineDefinition }).ItemProcessor ??
          (state as { Iterator?: StateMachineDefinition }).Iterator;
        if (processor) walk(processor.States);
      }
    }
  };
  walk(definition.States);
  return found;
}

/** Runs the organization scan in-process and returns what each step saw. Throws only when it cannot start (Node too old, a bad configuration). */
export async function runOrganizationScan(options: OrgScanOptions = {}): Promise<OrgScanRun> {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
    throw new ConfigError(
      `The local runner needs Node.js 22 or later (aws-local-stepfunctions 3); this is ${process.version}. Run it through npm (npx iam-key-rotator).`,
    );
  }
  const config = options.config ?? loadConfig(process.env);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? defaultLogger;
  const sts = options.clients?.sts ?? defaultSts;
  const ownAccountId = options.ownAccountId ?? (await callerAccountId(sts)());
  const notifier = createNotifier({
    sns: options.clients?.sns ?? defaultSns,
    ledger: ledgerFor(options.clients?.dynamodb ?? defaultDynamodb, config),
    config,
    accountId: async () => ownAccountId,
    clock,
    logger,
  });
  // Sessions expire in real time: the scan's clock may be moved forward (--as-of, tests), the member role's sessions are not.
  const memberIam = options.memberIam ?? memberAccountClients(memberCredentials(sts, config, systemClock), iamWith);

  const definition = loadOrgScanDefinition();
  const names = new Map<string, string>();
  let listed: AccountList | undefined;
  // Every account's result as the Report received it: from scan-keys, or recorded by the Map's Catch.
  let results: AccountScanOutcome[] = [];
  let report: OrgScanReport | null = null;
  const handlers: Record<string, (payload: unknown) => Promise<unknown>> = {
    [STATES.ListAccounts]: async () => {
      listed = await listAccounts({ organizations: options.clients?.organizations ?? defaultOrganizations, config, ownAccountId, logger });
      for (const account of listed.accounts) names.set(account.accountId, account.accountName);
      return listed;
    },
    [STATES.ScanAccount]: async (payload) => {
      const parsed = AccountScanEventSchema.safeParse(payload);
      if (!parsed.success) throw new InvalidInputError(`${STATES.ScanAccount} received no { accountId, accountName }`);
      const outcome = await runAccountScan(parsed.data, {
        sfn: options.clients?.sfn ?? defaultSfn,
        config,
        clock,
        logger,
        ownAccountId,
        ownIam: options.clients?.iam ?? defaultIam,
        memberIam,
        notifier,
        dryRun: options.dryRun ?? false,
      });
      options.onAccount?.(outcome, parsed.data);
      return outcome;
    },
    [STATES.Report]: async (payload) => {
      results = ((payload as { results?: AccountScanOutcome[] } | undefined)?.results ?? []).map((result) => ({ ...result }));
      report = await reportOrgScan(payload, { notifier: options.dryRun ? silentNotifier : notifier, config, logger });
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
    taskResourceLocalHandlers[stateName] = async (parameters) => ({
      Payload: await handler((parameters as { Payload?: unknown }).Payload),
    });
    retryIntervalOverrides[stateName] = 10;
  }

  const executionName = options.executionName ?? `scan-${clock().toISOString().slice(0, 10)}`;
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(
    {},
    {
      context: { Execution: { Name: executionName } },
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, retryIntervalOverrides },
    },
  );
  try {
    await execution.result;
  } catch (failure) {
    const cause = failure instanceof Error && failure.cause instanceof Error ? failure.cause : failure;
    const error = cause instanceof Error ? { name: cause.name, message: cause.message } : { name: 'Error', message: String(cause) };
    return { status: 'Failed', executionName, accounts: listed?.accounts ?? [], skipped: listed?.skipped ?? [], results, report, error };
  }
  return { status: 'Succeeded', executionName, accounts: listed?.accounts ?? [], skipped: listed?.skipped ?? [], results, report };
}

/** Dry runs build the report but tell no one. */
const silentNotifier: Notifier = { send: async () => ({ status: 'suppressed', reason: 'dry run' }) };
