import { createHash } from 'node:crypto';

/** Step Functions execution names: 1–80 of these characters (anything else breaks CloudWatch Logs). */
export const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;

const HASH_LENGTH = 10;
const KEY_ID_LENGTH = 24;
const KIND_LENGTH = 12;

function sanitize(text: string): string {
  return text.replace(/[^0-9A-Za-z_-]/g, '_');
}

/**
 * The execution name of a rotation of one key, the same on every call: StartExecution with a known
 * name and the same input is a no-op, which is what makes re-running the scan safe. The readable
 * part is lossy (IAM user names may hold `+=,.@`, and long names are cut), so a hash of the exact
 * user, key id and kind keeps `a+b` and `a=b` apart. Layout: `<user>-<key id>-<kind>-<hash>`.
 * A later attempt (a manual rotation asked for again after the first one ended; Step Functions keeps
 * an ended execution's name for 90 days) is `<user>-<key id>-<kind><attempt>-<hash>`, its hash over
 * the attempt too; attempt 1 is the name above.
 */
export function executionName(userName: string, accessKeyId: string, kind: string, attempt = 1): string {
  const hashed = attempt === 1 ? `${userName}\n${accessKeyId}\n${kind}` : `${userName}\n${accessKeyId}\n${kind}\n${attempt}`;
  const hash = createHash('sha256').update(hashed).digest('hex').slice(0, HASH_LENGTH);
  const key = sanitize(accessKeyId).slice(0, KEY_ID_LENGTH);
  const kindPart = `${sanitize(kind).slice(0, KIND_LENGTH)}${attempt === 1 ? '' : String(attempt)}`;
  const room = 80 - key.length - kindPart.length - hash.length - 3;
  const user = sanitize(userName).slice(0, room);
  return `${user}-${key}-${kindPart}-${hash}`;
}

/** `arn:aws:states:r:a:stateMachine:sm` + name → `arn:aws:states:r:a:execution:sm:name`. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
