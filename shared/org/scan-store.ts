import { BatchGetItemCommand, BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { InvalidInputError, RotatorError } from '../base/errors.ts';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../notify/ledger.ts';

/**
 * Where an organization scan keeps its accounts and their outcomes: the stack's ledger table, under
 * `orgscan#<execution name>#…` (the prefix the roles fence with dynamodb:LeadingKeys), never the state.
 *
 * Step Functions caps a state's input and output at 256 KiB (Step Functions developer guide, "Service
 * quotas": maximum input or output size for a task, state, or execution), and a Map's gathered results
 * count toward it even with `ResultPath: null` (the ResultWriter page: without a ResultWriter the
 * child executions' outputs are returned to the state output; aws/aws-cdk#24799 shows a Distributed
 * Map failing with States.DataLimitExceeded with ResultPath and OutputPath null). So the accounts are
 * written here in pages, the Map iterates over page numbers, each page's outcomes are written here by
 * its child execution, and the Report reads them back a few pages at a time.
 */

export const ORG_SCAN_PREFIX = 'orgscan#';

/**
 * At most this many pages, so the Map's items (page numbers) and its gathered results (`{}` per page)
 * stay a few KB however large the organization: 1,000 × `{}` is 3 KB.
 */
export const MAX_PAGES = 1000;
/**
 * At most this many accounts in a page: a child execution holds its page's accounts and outcomes in
 * one state (200 × ~400 bytes at the longest causes ≈ 80 KB, under 256 KiB) and one DynamoDB item
 * (under its 400 KB item limit). 1,000 pages of 200: up to 200,000 accounts.
 */
export const MAX_ACCOUNTS_PER_PAGE = 200;
/** A larger page costs fewer invocations; a smaller one keeps every worker busy to the end (see pagePlan). */
const PREFERRED_PAGE_SIZE = 50;
const PAGES_PER_WORKER = 4;

/** Kept past the 14 days in which a failed execution can be redriven, whose Report reads them again. */
export const ORG_SCAN_RETENTION_MS = 15 * 86_400_000;

/** The organization holds more selected accounts than one scan can page (MAX_PAGES × MAX_ACCOUNTS_PER_PAGE). */
export class OrganizationTooLargeError extends RotatorError {
  override readonly name = 'OrganizationTooLargeError';
}

/** A page the scan wrote is not in the table (expired, or written by another execution): nothing to scan or report from it. */
export class OrgScanPageMissingError extends RotatorError {
  override readonly name = 'OrgScanPageMissingError';
}

/** DynamoDB could not take or give every item of the organization scan (sustained throttling); the state machine retries the step. */
export class OrgScanStoreError extends RotatorError {
  override readonly name = 'OrgScanStoreError';
}

export const AccountRefSchema = z.object({ accountId: z.string(), accountName: z.string() });
export type StoredAccount = z.infer<typeof AccountRefSchema>;

/** One account's outcome as the Map's ScanAccount (scan-keys' result) or RecordFailure (its Catch) leaves it. */
export const AccountResultSchema = z.object({
  accountId: z.string(),
  status: z.enum(['scanned', 'failed']),
  keysDue: z.optional(z.number()),
  rotationsStarted: z.optional(z.number()),
  problems: z.optional(z.number()),
  error: z.nullable(z.optional(z.string())),
  cause: z.nullable(z.optional(z.string())),
});
export type AccountResult = z.infer<typeof AccountResultSchema>;

export interface StoredPage {
  readonly accounts: readonly StoredAccount[] | null;
  /** Null when the page's child execution never recorded them (it failed, or is still running). */
  readonly results: readonly AccountResult[] | null;
}

export interface OrgScanStore {
  putAccountPages(executionName: string, pages: readonly (readonly StoredAccount[])[], expiresAt: number): Promise<void>;
  getAccountPage(executionName: string, page: number): Promise<readonly StoredAccount[]>;
  putResultPage(executionName: string, page: number, results: readonly AccountResult[], expiresAt: number): Promise<void>;
  /** Both items of each page; pages absent from the table come back with nulls. */
  getPages(executionName: string, pages: readonly number[]): Promise<ReadonlyMap<number, StoredPage>>;
}

export function orgScanKey(executionName: string, kind: 'accounts' | 'results', page: number): string {
  return `${ORG_SCAN_PREFIX}${executionName}#${kind}#${page}`;
}

/**
 * How many accounts go in a page: pages stay at most MAX_PAGES; otherwise about PAGES_PER_WORKER pages
 * per concurrent child execution, so no worker idles while one scans a long last page, and at most
 * PREFERRED_PAGE_SIZE accounts, which a child scans one after another.
 */
export function pageSize(accounts: number, maxConcurrency: number): number {
  const balanced = Math.min(PREFERRED_PAGE_SIZE, Math.ceil(accounts / (Math.max(1, maxConcurrency) * PAGES_PER_WORKER)));
  const size = Math.max(1, Math.ceil(accounts / MAX_PAGES), balanced);
  if (size > MAX_ACCOUNTS_PER_PAGE)
    throw new OrganizationTooLargeError(
      `The scan selected ${accounts} accounts; one organization scan pages at most ${MAX_PAGES * MAX_ACCOUNTS_PER_PAGE}. Narrow it with ORG_INCLUDE_OUS or ORG_EXCLUDE_OUS and run one stack per part.`,
    );
  return size;
}

export function toPages<T>(items: readonly T[], size: number): T[][] {
  const pages: T[][] = [];
  for (let start = 0; start < items.length; start += size) pages.push(items.slice(start, start + size));
  return pages;
}

const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const BATCH_ATTEMPTS = 6;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The organization scan's items in the ledger table (one item per page and kind, its content as one JSON string). */
export function dynamoOrgScanStore(dynamodb: DynamoDBClient, tableName: string): OrgScanStore {
  if (tableName === '') throw new InvalidInputError('The organization scan needs NOTIFICATION_LEDGER_TABLE: it keeps its pages there.');
  const item = (id: string, field: string, value: unknown, expiresAt: number): WriteRequest => ({
    PutRequest: {
      Item: { [LEDGER_KEY]: { S: id }, [field]: { S: JSON.stringify(value) }, [LEDGER_TTL_ATTRIBUTE]: { N: String(expiresAt) } },
    },
  });
  /** BatchWriteItem may leave items unprocessed under throttling: they are sent again with backoff, a bounded number of times. */
  const writeAll = async (requests: readonly WriteRequest[]): Promise<void> => {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      let pending: WriteRequest[] = requests.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        if (attempt > BATCH_ATTEMPTS)
          throw new OrgScanStoreError(
            `DynamoDB left ${pending.length} organization scan items unwritten after ${BATCH_ATTEMPTS} attempts.`,
          );
        if (attempt > 1) await pause(50 * 2 ** attempt);
        const response = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
        pending = response.UnprocessedItems?.[tableName] ?? [];
      }
    }
  };
  const readAll = async (ids: readonly string[]): Promise<Map<string, Record<string, { S?: string }>>> => {
    const found = new Map<string, Record<string, { S?: string }>>();
    for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) {
      let keys = ids.slice(start, start + BATCH_GET_LIMIT).map((id) => ({ [LEDGER_KEY]: { S: id } }));
      for (let attempt = 1; keys.length > 0; attempt += 1) {
        if (attempt > BATCH_ATTEMPTS)
          throw new OrgScanStoreError(`DynamoDB left ${keys.length} organization scan items unread after ${BATCH_ATTEMPTS} attempts.`);
        if (attempt > 1) await pause(50 * 2 ** attempt);
        const response = await dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const entry of response.Responses?.[tableName] ?? []) {
          const id = entry[LEDGER_KEY]?.S;
          if (id) found.set(id, entry as Record<string, { S?: string }>);
        }
        keys = (response.UnprocessedKeys?.[tableName]?.Keys ?? []) as typeof keys;
      }
    }
    return found;
  };
  return {
    putAccountPages: (executionName, pages, expiresAt) =>
      writeAll(pages.map((accounts, page) => item(orgScanKey(executionName, 'accounts', page), 'accounts', accounts, expiresAt))),
    getAccountPage: async (executionName, page) => {
      const id = orgScanKey(executionName, 'accounts', page);
      const accounts = parseField((await readAll([id])).get(id)?.accounts?.S, AccountRefSchema);
      if (!accounts) throw new OrgScanPageMissingError(`Page ${page} of organization scan ${executionName} is not in ${tableName}.`);
      return accounts;
    },
    putResultPage: (executionName, page, results, expiresAt) =>
      writeAll([item(orgScanKey(executionName, 'results', page), 'results', results, expiresAt)]),
    getPages: async (executionName, pages) => {
      const ids = pages.flatMap((page) => [orgScanKey(executionName, 'accounts', page), orgScanKey(executionName, 'results', page)]);
      const found = await readAll(ids);
      return new Map(
        pages.map((page) => [
          page,
          {
            accounts: parseField(found.get(orgScanKey(executionName, 'accounts', page))?.accounts?.S, AccountRefSchema),
            results: parseField(found.get(orgScanKey(executionName, 'results', page))?.results?.S, AccountResultSchema),
          },
        ]),
      );
    },
  };
}

function parseField<T>(text: string | undefined, schema: z.ZodMiniType<T>): T[] | null {
  if (text === undefined) return null;
  const parsed = z.array(schema).safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new InvalidInputError(`An organization scan item is malformed: ${parsed.error.issues[0]?.message ?? 'unknown'}.`);
  return parsed.data;
}

/** The same store in memory: the size test and unit tests run the real definition against it. */
export function memoryOrgScanStore(): OrgScanStore & { readonly items: ReadonlyMap<string, string> } {
  const items = new Map<string, string>();
  const read = <T>(id: string, schema: z.ZodMiniType<T>): T[] | null => parseField(items.get(id), schema);
  return {
    items,
    putAccountPages: async (executionName, pages) => {
      pages.forEach((accounts, page) => items.set(orgScanKey(executionName, 'accounts', page), JSON.stringify(accounts)));
    },
    getAccountPage: async (executionName, page) => {
      const accounts = read(orgScanKey(executionName, 'accounts', page), AccountRefSchema);
      if (!accounts) throw new OrgScanPageMissingError(`Page ${page} of organization scan ${executionName} is not stored.`);
      return accounts;
    },
    putResultPage: async (executionName, page, results) => {
      items.set(orgScanKey(executionName, 'results', page), JSON.stringify(results));
    },
    getPages: async (executionName, pages) =>
      new Map(
        pages.map((page) => [
          page,
          {
            accounts: read(orgScanKey(executionName, 'accounts', page), AccountRefSchema),
            results: read(orgScanKey(executionName, 'results', page), AccountResultSchema),
          },
        ]),
      ),
  };
}
