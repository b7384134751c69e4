import type { AccountList } from '#shared/org/list-accounts.ts';
import type { OrgScanReport } from '#shared/org/scan-report.ts';
import type { AccountScanOutcome } from '#shared/scan/account-scan.ts';
import { fromPayload, LAMBDA_SERVICE_ERRORS, lambdaTask, type Retrier, type StateMachine } from './asl.ts';

/**
 * The organization scan (statemachines/scan-organization.asl.json is generated from this file by
 * `npm run build:asl`): list the accounts, scan each in its own child execution, report once.
 */

/** Every state's name; ScanAccount and RecordFailure are the Map's per-account workflow. */
export const STATES = {
  ListAccounts: 'ListAccounts',
  ScanAccounts: 'ScanAccounts',
  ScanAccount: 'ScanAccount',
  RecordFailure: 'RecordFailure',
  Report: 'Report',
} as const;

export type OrgScanState = typeof STATES.ListAccounts | typeof STATES.ScanAccounts | typeof STATES.Report;
export type AccountScanState = typeof STATES.ScanAccount | typeof STATES.RecordFailure;

/**
 * Lambda's own transient errors only, a few times. An account that cannot be scanned is a result
 * (scan-keys returns it as `failed`), reported to operations and scanned again by the next day's
 * scan, not a failure to retry here.
 */
const LAMBDA_TRANSIENT: Retrier = { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 };

export function scanOrganizationDefinition(): StateMachine<OrgScanState> {
  return {
    Comment:
      "Organization-wide scan: list and select the organization's accounts, scan each (bounded concurrency; one account's failure is recorded and never stops the others), then report once. A Distributed Map: each account runs as its own child execution, so 1,000 accounts never approach the 25,000-event history limit of one execution (an inline Map would, at ~10 events per account). aws-local-stepfunctions 3 runs the same ItemProcessor inline (it ignores ProcessorConfig), so local runs and tests execute this very definition. Items come from the state (ItemsPath), not S3: list-accounts keeps them at ~60 bytes each.",
    StartAt: 'ListAccounts',
    States: {
      ListAccounts: lambdaTask<OrgScanState>('listAccounts', {
        payload: {},
        resultSelector: fromPayload<AccountList>('accounts', 'skipped', 'skippedCount', 'maxConcurrency'),
        retry: [LAMBDA_TRANSIENT],
        next: 'ScanAccounts',
      }),
      ScanAccounts: {
        Type: 'Map',
        ItemsPath: '$.accounts',
        ItemSelector: {
          'accountId.$': '$$.Map.Item.Value.accountId',
          'accountName.$': '$$.Map.Item.Value.accountName',
        },
        MaxConcurrencyPath: '$.maxConcurrency',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'ScanAccount',
          States: {
            ScanAccount: lambdaTask<AccountScanState>('scanKeys', {
              payload: { 'accountId.$': '$.accountId', 'accountName.$': '$.accountName' },
              resultSelector: fromPayload<AccountScanOutcome>(
                'accountId',
                'status',
                'keysDue',
                'rotationsStarted',
                'problems',
                'error',
                'cause',
              ),
              retry: [LAMBDA_TRANSIENT],
              // A crash or timeout of one account's scan becomes that account's result, so the Map goes on.
              catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RecordFailure' }],
              end: true,
            }),
            RecordFailure: {
              Type: 'Pass',
              // The same fields as scan-keys' result for a failed account, which the Report reads.
              Parameters: {
                'accountId.$': '$.accountId',
                status: 'failed',
                keysDue: 0,
                rotationsStarted: 0,
                problems: 0,
                'error.$': '$.failure.Error',
                cause:
                  "the account's scan crashed or timed out; its child execution of the ScanAccounts Distributed Map holds the whole error (kept out of this result, which the Map gathers for every account into one 256 KB state)",
              },
              End: true,
            },
          },
        },
        ResultPath: '$.results',
        Next: 'Report',
      },
      Report: lambdaTask<OrgScanState>('reportOrgScan', {
        payload: {
          'executionName.$': '$$.Execution.Name',
          'accounts.$': '$.accounts',
          'skipped.$': '$.skipped',
          'skippedCount.$': '$.skippedCount',
          'results.$': '$.results',
        },
        resultSelector: fromPayload<OrgScanReport>('scanned', 'rotationsStarted', 'skipped', 'failed', 'notification'),
        retry: [LAMBDA_TRANSIENT],
        end: true,
      }),
    },
  };
}
