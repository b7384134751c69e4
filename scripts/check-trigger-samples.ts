// `npx tsx scripts/check-trigger-samples.ts [dir]`: reads every *.json in dir (default
// ../shared/outside-cases/events, real public AWS Health events and GuardDuty findings kept beside
// the repository, not in it), delivers each as the stack's rule would (viaRule's wrapper) and prints
// one line per event: the requests parseTrigger makes and the account they act in, what it ignores,
// or the typed error it refuses with. A file may be an EventBridge event, a bare GuardDuty finding
// (the event's `detail`, as GuardDuty's console and samples show it) or an array of those; a bare
// finding gets the envelope EventBridge would put around it. Uses the default GuardDuty policy.
// With --as-live, a sample finding is read as a live one (its `sample` marker dropped, severity floor
// 1), to check that its shape parses. Exits non-zero when a file is not JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventAccountId } from '../shared/start/start-rotation.ts';
import { DEFAULT_GUARDDUTY_POLICY, parseTrigger, RULE_DELIVERY } from '../shared/start/triggers.ts';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const args = process.argv.slice(2);
const asLive = args.includes('--as-live');
const dir = args.find((arg) => !arg.startsWith('--')) ?? '../shared/outside-cases/events';
const policy = asLive ? { guardDutyMinSeverity: 1, guardDutyFindingTypes: [] } : DEFAULT_GUARDDUTY_POLICY;

/** The finding without GuardDuty's sample marker (service.additionalInfo.sample). */
function withoutSampleMarker(event: Record<string, unknown>): Record<string, unknown> {
  const detail = event.detail;
  if (!isObject(detail) || !isObject(detail.service) || !isObject(detail.service.additionalInfo)) return event;
  const { sample: _sample, ...additionalInfo } = detail.service.additionalInfo;
  return { ...event, detail: { ...detail, service: { ...detail.service, additionalInfo } } };
}
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort();

/** A bare finding (schemaVersion, no source) inside the envelope EventBridge delivers it in. */
function asEvent(document: Record<string, unknown>): Record<string, unknown> {
  if ('source' in document || !('schemaVersion' in document)) return document;
  return {
    version: '0',
    id: 'envelope-added-by-check-trigger-samples',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: document.accountId,
    region: document.region,
    resources: [],
    detail: document,
  };
}

function describe(event: Record<string, unknown>): string {
  const delivered = { deliveredBy: RULE_DELIVERY, rule: 'arn:aws:events:us-east-1:123456789012:rule/check-trigger-samples', event };
  try {
    const parsed = parseTrigger(delivered, policy);
    if (parsed.type === 'ignored') return `ignored (${parsed.source}): ${parsed.reason}`;
    const account = eventAccountId(delivered) ?? '(the stack’s own)';
    const requests = parsed.requests.map(
      (request) => `${request.kind} ${request.userName ?? '(owner looked up)'} ${request.accessKeyId ?? ''}`,
    );
    return `requests (${parsed.source}) in account ${account}: ${requests.join('; ')}`;
  } catch (error) {
    return error instanceof Error ? `refused: ${error.name}: ${error.message}` : `refused: ${String(error)}`;
  }
}

let broken = 0;
for (const name of files) {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  } catch (error) {
    broken += 1;
    console.log(`${name}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    continue;
  }
  const events = (Array.isArray(document) ? document : [document]).filter(isObject);
  for (const [index, event] of events.entries()) {
    console.log(
      `${name}${events.length > 1 ? `[${index}]` : ''}: ${describe(asLive ? withoutSampleMarker(asEvent(event)) : asEvent(event))}`,
    );
  }
}
process.exitCode = broken > 0 ? 1 : 0;
