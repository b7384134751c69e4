// `npx tsx scripts/check-cloudtrail-samples.ts [dir]`: reads every *.json in dir (default
// ../shared/outside-cases/cloudtrail, real public CloudTrail records kept beside the repository, not in it)
// with parseCloudTrailRecord and prints one line per file: what it parsed, or why not. A file may be
// one record, a log file ({"Records": [...]}) or a LookupEvents response ({"Events": [...]}, each
// record a CloudTrailEvent string). Exits non-zero when a file is not JSON at all.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCloudTrailRecord, type RecordReading } from '../shared/aws/cloudtrail-record.ts';

const dir = process.argv[2] ?? '../shared/outside-cases/cloudtrail';
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort();

function describe(reading: RecordReading): string {
  if (!('call' in reading)) return `not parsed: ${reading.skipped}`;
  const call = reading.call;
  const notes = [call.category, call.errorCode && `error ${call.errorCode}`, call.invokedBy && `invoked by ${call.invokedBy}`].filter(
    Boolean,
  );
  const agent = call.userAgent === '' ? 'no user agent' : `agent "${call.userAgent.slice(0, 40)}${call.userAgent.length > 40 ? '…' : ''}"`;
  return `parsed: ${call.eventSource} ${call.eventName} at ${call.at.toISOString()} with ${call.accessKeyId} from ${call.sourceIp} in ${call.region || '?'} (${notes.join(', ')}), ${agent}`;
}

let parsed = 0;
let skipped = 0;
let broken = 0;
for (const name of files) {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(join(dir, name), 'utf8').replace(/^\uFEFF/, '')) as unknown;
  } catch {
    broken += 1;
    console.log(`${name}: not JSON`);
    continue;
  }
  const container = typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  const lookup = Array.isArray(container.Events) ? container.Events : undefined;
  const records = Array.isArray(container.Records) ? container.Records : undefined;
  const readings: RecordReading[] = lookup
    ? lookup.map((event: unknown) =>
        readCloudTrailRecord(
          typeof event === 'object' && event !== null ? (event as { CloudTrailEvent?: unknown }).CloudTrailEvent : event,
        ),
      )
    : records
      ? records.map((record: unknown) => readCloudTrailRecord(record))
      : [readCloudTrailRecord(document)];
  for (const reading of readings) {
    if ('call' in reading) parsed += 1;
    else skipped += 1;
  }
  const kind = lookup ? `LookupEvents response, ${lookup.length} event(s): ` : records ? `log file, ${records.length} record(s): ` : '';
  console.log(`${name}: ${kind}${readings.map(describe).join('; ')}`);
}
console.log(
  `${files.length} files, ${parsed + skipped} records: ${parsed} parsed, ${skipped} not parsed${broken ? `, ${broken} files not JSON` : ''}`,
);
if (broken > 0) process.exitCode = 1;
