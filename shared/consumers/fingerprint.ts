import type { KeyCall } from '../aws/key-calls.ts';

/**
 * A consumer is where calls come from: the source address (or the AWS service that called with the
 * key's permissions) and the tool that signed them, normalised to its name and major version so an
 * upgrade from aws-cli/2.13 to 2.15 is the same consumer and a move from aws-cli to Boto3 is not.
 */
export interface ConsumerId {
  /** An IP address, or an AWS service (`lambda.amazonaws.com`). */
  readonly source: string;
  /** e.g. `aws-cli/2`, `Boto3/1`, `aws-sdk-js/3`, `billing-etl/4 aws-sdk-js/3`. */
  readonly agent: string;
}

/** One string per consumer, for maps and sets. */
export function consumerKey(id: ConsumerId): string {
  return `${id.source} ${id.agent}`;
}

// The SDKs and tools whose token names the signer. Tokens before one are an application's own prefix
// (SDKs let an app prepend `name/version`); tokens after it are metadata (os/, lang/, md/, api/…).
const SIGNERS =
  /^(aws-cli|aws-sdk-[a-z0-9-]+|boto3|botocore|awspowershell|aws-powershell|terraform|terraform-provider-aws|pulumi|aws-cdk|cloudformation|s3console|aws-internal|aws-toolkit[a-z-]*|awsconsole|signin|aws-chatbot)$/i;
const NOISE = /^(apn|hashicorp|ua|os|lang|md|api|cfg|exe|prompt|command|m|app)$/i;
const BROWSER = /^(mozilla|opera|safari|chrome)$/i;
const MAX_AGENT_CHARS = 80;

function token(text: string): { readonly name: string; readonly version: string } | undefined {
  const match = /^([A-Za-z][\w.+-]*)\/(\S+)$/.exec(text);
  return match?.[1] !== undefined && match[2] !== undefined ? { name: match[1], version: match[2] } : undefined;
}

const major = (version: string): string => /^v?(\d+)/.exec(version)?.[1] ?? version.slice(0, 12);

/**
 * `aws-cli/2.13.5 Python/3.11.4 Linux/5.15 exe/x86_64 prompt/off command/s3.ls` → `aws-cli/2`;
 * `billing-etl/4.2.0 aws-sdk-js/3.450.0 ua/2.0 os/linux` → `billing-etl/4 aws-sdk-js/3`; a browser →
 * `browser` (the console); an agent CloudTrail left empty → `unknown`. Comments in parentheses and
 * the brackets CloudTrail puts around an agent an AWS service forwarded are dropped.
 */
export function normaliseUserAgent(userAgent: string): string {
  const text = userAgent
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\([^)]*\)/g, ' ')
    .trim();
  if (text === '') return 'unknown';
  const words = text.split(/\s+/);
  const first = token(words[0] ?? '');
  if (first && BROWSER.test(first.name)) return 'browser';
  const parsed = words.map(token);
  const signerAt = parsed.findIndex((part) => part !== undefined && SIGNERS.test(part.name));
  if (signerAt < 0) {
    if (first) return `${first.name}/${major(first.version)}`;
    return text.slice(0, MAX_AGENT_CHARS);
  }
  const kept = parsed
    .slice(0, signerAt + 1)
    .filter((part): part is { name: string; version: string } => part !== undefined && !NOISE.test(part.name));
  return kept
    .map((part) => `${part.name}/${major(part.version)}`)
    .join(' ')
    .slice(0, MAX_AGENT_CHARS);
}

export function consumerOf(call: Pick<KeyCall, 'sourceIp' | 'invokedBy' | 'userAgent'>): ConsumerId {
  return { source: call.invokedBy ?? call.sourceIp, agent: normaliseUserAgent(call.userAgent) };
}
