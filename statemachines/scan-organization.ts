import type { AccountList } from '#shared/org/list-accounts.ts';
import type { ReadPageResult } from '#shared/org/scan-pages.ts';
import type { OrgScanReport } from '#shared/org/scan-report.ts';
import type { OrgScanStoreError } from '#shared/org/scan-store.ts';
import type { AccountScanOutcome } from '#shared/scan/account-scan.ts';
import { errorName, fromPayload, LAMBDA_SERVICE_ERRORS, lambdaTask, type Retrier, type StateMachine } from './asl.ts';

/**
 * The organization scan (statemachines/scan-organization.asl.json is generated from this file by
 * `npm run build:asl`): list the accounts into the ledger table in pages, scan each page in its own
 * child execution (one account at a time, each in its own scan-keys invocation), report once.
 *
 * No state holds a list that grows with the organization. Step Functions caps every state's input
 * and output at 256 KiB (developer guide, "Service quotas"), and a Map's gathered results count
 * toward it even with `ResultPath: null`: without a ResultWriter, the child executions' outputs are
 * returned to the Map's state output ("ResultWriter (Map)": COMPACT is the default when ResultWriter
 * is not specified; aws/aws-cdk#24799 is a Distributed Map failing States.DataLimitExceeded with
 * ResultPath and OutputPath null). So the Map iterates over page numbers (at most MAX_PAGES), every
 * child ends with `{}` (RecordPage's OutputPath null), and the accounts and outcomes live in the
 * ledger table (shared/org/scan-store.ts). An S3 ItemReader/ResultWriter would do the same, but
 * aws-local-stepfunctions implements neither, and the stack has no bucket: this definition runs
 * unchanged locally (local/org-runner.ts adds only a size check that sees the gathered results).
 */

/** Every state's name; ReadPage, ScanPage and RecordPage are a child execution; ScanAccount and RecordFailure one account in it. */
export const STATES = {
  ListAccounts: 'ListAccounts',
  ScanAccounts: 'ScanAccounts',
  ReadPage: 'ReadPage',
  ScanPage: 'ScanPage',
  RecordPage: 'RecordPage',
  ScanAccount: 'ScanAccount',
  RecordFailure: 'RecordFailure',
  Report: 'Report',
} as const;

export type OrgScanState = typeof STATES.ListAccounts | typeof STATES.ScanAccounts | typeof STATES.Report;
export type PageState = typeof STATES.ReadPage | typeof STATES.ScanPage | typeof STATES.RecordPage;
export type AccountScanState = typeof STATES.ScanAccount | typeof STATES.RecordFailure;

/**
 * Lambda's own transient errors only, a few times. An account that cannot be scanned is a result
 * (scan-keys returns it as `failed`), reported to operations and scanned again by the next day's
 * scan, not a failure to retry here.
 */
const LAMBDA_TRANSIENT: Retrier = { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 };
/** DynamoDB throttled the page's batch past the SDK's own retries: later, with more room. */
const STORE_THROTTLED: Retrier = {
  ErrorEquals: [errorName<OrgScanStoreError>('OrgScanStoreError')],
  IntervalSeconds: 5,
  MaxAttempts: 3,
  BackoffRate: 2,
};

export function scanOrganizationDefinition(): StateMachine<OrgScanState> {
  return {
    Comment:
      "Organization-wide scan: list and select the organization's accounts into the ledger table in pages, scan each page in a child execution of a Distributed Map (bounded concurrency; one account's failure is recorded and never stops the others; a page whose child fails is reported, not fatal), then report once from the table. No state grows with the number of accounts: the Map iterates over page numbers and each child ends with {}. Each child's history holds one page (at most 200 accounts, ~7 events each), far from the 25,000-event limit. aws-local-stepfunctions 3 runs the same definition inline (it ignores ProcessorConfig and ToleratedFailurePercentage).",
    StartAt: 'ListAccounts',
    States: {
      ListAccounts: lambdaTask<OrgScanState>('listAccounts', {
        payload: { 'executionName.$': '$$.Execution.Name' },
        resultSelector: fromPayload<AccountList>(
          'pages',
          'pageCount',
          'accountCount',
          'skipped',
          'skippedCount',
          'maxConcurrency',
          'expiresAt',
        ),
        retry: [LAMBDA_TRANSIENT, STORE_THROTTLED],
        next: 'ScanAccounts',
      }),
      ScanAccounts: {
        Type: 'Map',
        ItemsPath: '$.pages',
        // A child execution has an Execution.Name of its own: the parent's, which keys the pages, travels in the item.
        ItemSelector: {
          'page.$': '$$.Map.Item.Value',
          'executionName.$': '$$.Execution.Name',
          'expiresAt.$': '$.expiresAt',
        },
        MaxConcurrencyPath: '$.maxConcurrency',
        // A page whose child fails after its retries is reported by the Report (no outcome recorded), not the end of the scan.
        ToleratedFailurePercentage: 100,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'ReadPage',
          States: {
            ReadPage: lambdaTask<PageState>('orgScanPages', {
              payload: { op: 'read', 'executionName.$': '$.executionName', 'page.$': '$.page' },
              resultSelector: fromPayload<ReadPageResult>('accounts'),
              resultPath: '$.read',
              retry: [LAMBDA_TRANSIENT, STORE_THROTTLED],
              next: 'ScanPage',
            }),
            ScanPage: {
              Type: 'Map',
              ItemsPath: '$.read.accounts',
              ItemSelector: {
                'accountId.$': '$$.Map.Item.Value.accountId',
                'accountName.$': '$$.Map.Item.Value.accountName',
              },
              // One account at a time per page: ORG_MAX_CONCURRENT_ACCOUNTS bounds the pages scanned at once, so the accounts too.
              MaxConcurrency: 1,
              ItemProcessor: {
                ProcessorConfig: { Mode: 'INLINE' },
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
                    // A crash or timeout of one account's scan becomes that account's result, so the page goes on.
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
                        "the account's scan crashed or timed out; this page's child execution of the ScanAccounts Distributed Map holds the whole error (kept out of the page's results, which are bounded in size)",
                    },
                    End: true,
                  },
                },
              },
              ResultPath: '$.results',
              Next: 'RecordPage',
            },
            RecordPage: lambdaTask<PageState>('orgScanPages', {
              payload: {
                op: 'record',
                'executionName.$': '$.executionName',
                'page.$': '$.page',
                'expiresAt.$': '$.expiresAt',
                'results.$': '$.results',
              },
              resultPath: null,
              // The child's output is gathered by the Map for every page: `{}` keeps that constant per page.
              outputPath: null,
              retry: [LAMBDA_TRANSIENT, STORE_THROTTLED],
              end: true,
            }),
          },
        },
        ResultPath: null,
        Next: 'Report',
      },
      Report: lambdaTask<OrgScanState>('reportOrgScan', {
        payload: {
          'executionName.$': '$$.Execution.Name',
          'pageCount.$': '$.pageCount',
          'skipped.$': '$.skipped',
          'skippedCount.$': '$.skippedCount',
        },
        resultSelector: fromPayload<OrgScanReport>('scanned', 'rotationsStarted', 'skipped', 'failedCount', 'failed', 'notification'),
        retry: [LAMBDA_TRANSIENT, STORE_THROTTLED],
        end: true,
      }),
    },
  };
}
