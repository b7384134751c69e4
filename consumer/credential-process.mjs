#!/usr/bin/env node
// credential_process for keys rotated by iam-key-rotator: prints the AWSCURRENT key of the user's secret
// in the form the AWS CLI and every AWS SDK read from `credential_process` (Version 1 JSON), keeping it
// in a cache file (mode 0600) so most runs make no AWS call at all.
//
//   [profile app]
//   credential_process = node /path/to/credential-process.mjs --secret-id iam-key-rotator/app --profile reader
//
// One file, no dependencies: it runs with `node` (18 or later) wherever it is copied, and signs its two
// AWS requests (secretsmanager:GetSecretValue, sts:GetCallerIdentity) itself. Only the cached path runs
// on most invocations, so it loads nothing beyond node:fs; the network modules load when a read is due.
// `node credential-process.mjs --help` lists the options. The secret is never written anywhere but
// standard output and the cache file, and no error message quotes it.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELP = `Usage: node credential-process.mjs --secret-id ID [options]

Prints the access key held by the AWSCURRENT version of secret ID as credential_process JSON.

Where the key that reads the secret comes from (one of):
  --profile NAME        a profile of the shared config/credentials files (static keys; any other kind
                        of profile when the AWS SDK for JavaScript is installed next to this script)
  (neither)             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN] in the environment
  --self-refresh        the cached key itself (the user may read its own secret); the first read, with
                        no cache yet, uses --profile or the environment

Options:
  --cache-file PATH     default ~/.aws/iam-key-rotator/<secret id>.json (created with mode 0600; a cache
                        file that group or others can read is refused)
  --ttl SECONDS         re-read the secret after this long, spread by --jitter (default 300)
  --jitter FRACTION     default 0.1 (±10%)
  --check               before answering from the cache, make one sts:GetCallerIdentity call with the
                        cached key; when AWS refuses it, read the secret again (at most once per
                        --min-interval). Without it a refused key is replaced when its TTL runs out.
  --min-interval SECONDS  no re-read for a refused key sooner than this after the last read (default 1)
  --backoff SECONDS     after a failed read, wait this long before the next, doubling (default 1)
  --max-backoff SECONDS default 60
  --expiry-window SECONDS  added to the Expiration printed (default 0); SDKs refresh credentials some
                        minutes before Expiration (botocore 15), set it to that to run this once per TTL
  --region REGION       default AWS_REGION, AWS_DEFAULT_REGION, the secret ARN's, the profile's
  --endpoint-url URL    default AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL

Exit status 0 with the JSON on standard output, or 1 with the reason on standard error.`;

/** Errors AWS answers a request with when its key is deleted, Inactive or unknown. */
const STALE_KEY_ERRORS = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);
const CACHE_VERSION = 1;
const LOCK_STALE_MS = 10_000;

/** What the person running it can act on; printed without a stack. */
class CredentialProcessError extends Error {
  name = 'CredentialProcessError';
}

/** An AWS error answer, by its code. */
class AwsError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = code;
    this.status = status;
  }
}

// ---- options -------------------------------------------------------------------------------------

const FLAGS = new Set(['--self-refresh', '--check', '--help']);
const VALUES = new Set([
  '--secret-id',
  '--profile',
  '--cache-file',
  '--ttl',
  '--jitter',
  '--min-interval',
  '--backoff',
  '--max-backoff',
  '--expiry-window',
  '--region',
  '--endpoint-url',
]);

export function parseArgs(argv) {
  const given = {};
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    if (FLAGS.has(name)) given[name] = true;
    else if (VALUES.has(name)) {
      const value = inline ?? argv[(i += 1)];
      if (value === undefined) throw new CredentialProcessError(`${name} needs a value; see --help.`);
      given[name] = value;
    } else throw new CredentialProcessError(`Unknown option ${argv[i]}; see --help.`);
  }
  if (given['--help']) return { help: true };
  const secretId = given['--secret-id'];
  if (!secretId) throw new CredentialProcessError('Give the secret to read: --secret-id iam-key-rotator/<user name>.');
  const seconds = (name, fallback) => {
    const value = given[name] === undefined ? fallback : Number(given[name]);
    if (!Number.isFinite(value) || value < 0)
      throw new CredentialProcessError(`${name} must be a number of seconds ≥ 0; got ${given[name]}.`);
    return value * 1000;
  };
  const jitter = given['--jitter'] === undefined ? 0.1 : Number(given['--jitter']);
  if (!(jitter >= 0 && jitter < 1)) throw new CredentialProcessError(`--jitter must be a fraction in [0, 1); got ${given['--jitter']}.`);
  return {
    help: false,
    secretId,
    profile: given['--profile'],
    selfRefresh: given['--self-refresh'] === true,
    check: given['--check'] === true,
    cacheFile: given['--cache-file'] ?? join(homedir(), '.aws', 'iam-key-rotator', `${secretId.replace(/[^\w.-]/g, '_')}.json`),
    policy: {
      ttlMs: seconds('--ttl', 300),
      ttlJitter: jitter,
      minReadIntervalMs: seconds('--min-interval', 1),
      errorBackoffMs: seconds('--backoff', 1),
      maxErrorBackoffMs: seconds('--max-backoff', 60),
    },
    expiryWindowMs: seconds('--expiry-window', 0),
    region: given['--region'],
    endpointUrl: given['--endpoint-url'],
  };
}

// ---- the decisions (pure; the same as consumer/rotating-credentials.ts) --------------------------

export const EMPTY_CACHE = { freshUntil: 0, refused: false, lastReadAt: Number.NEGATIVE_INFINITY, failures: 0, retryAt: 0 };

/** `use` the cached key, `read` the secret, `wait` until the minimum interval passed, or `fail` with the last read's error. */
export function nextStep(state, policy, now) {
  const { key } = state;
  const backingOff = state.failures > 0 && now < state.retryAt;
  if (key && !state.refused && now < state.freshUntil) return { kind: 'use', key };
  if (backingOff) {
    if (key && !state.refused) return { kind: 'use', key };
    // A read failed moments ago: wait out a backoff no longer than the minimum re-read interval, then read once more.
    return state.retryAt - now <= policy.minReadIntervalMs ? { kind: 'wait', until: state.retryAt } : { kind: 'fail' };
  }
  if (key && state.refused && now - state.lastReadAt < policy.minReadIntervalMs) {
    return { kind: 'wait', until: state.lastReadAt + policy.minReadIntervalMs };
  }
  return { kind: 'read' };
}

export function afterRead(key, policy, startedAt, random) {
  const spread = policy.ttlMs * policy.ttlJitter * (2 * random - 1);
  return { key, freshUntil: startedAt + policy.ttlMs + spread, refused: false, lastReadAt: startedAt, failures: 0, retryAt: 0 };
}

export function afterFailure(state, policy, startedAt, error, random) {
  const failures = state.failures + 1;
  const base = Math.min(policy.maxErrorBackoffMs, policy.errorBackoffMs * 2 ** (failures - 1));
  const wait = base * (1 + policy.ttlJitter * (2 * random - 1));
  // Only the error's name and message are kept: neither holds the secret (see readSecret).
  const lastError = { name: error?.name ?? 'Error', message: error?.message ?? String(error) };
  return { ...state, lastReadAt: startedAt, failures, lastError, retryAt: startedAt + wait };
}

// ---- the cache file --------------------------------------------------------------------------------

/**
 * The cache as the file holds it, or EMPTY_CACHE when there is none. A file that group or others may
 * read, or that another user owns, is refused: it holds a secret key.
 */
export function readCache(path, secretId) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (error.code === 'ENOENT') return EMPTY_CACHE;
    throw new CredentialProcessError(`Cannot open the cache file ${path} (${error.code}). Check its permissions or give --cache-file.`);
  }
  try {
    const stat = fstatSync(fd);
    if ((stat.mode & 0o077) !== 0) {
      throw new CredentialProcessError(
        `The cache file ${path} can be read by group or others (mode ${(stat.mode & 0o777).toString(8)}), and it holds a secret key. ` +
          'It was not used. Delete it (it is re-created with mode 600), and check who could read it.',
      );
    }
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
      throw new CredentialProcessError(
        `The cache file ${path} belongs to another user (uid ${stat.uid}); it was not used. Delete it or give --cache-file.`,
      );
    }
    let parsed;
    try {
      parsed = JSON.parse(readFileSync(fd, 'utf8'));
    } catch {
      return EMPTY_CACHE; // A torn or foreign file is read again from the secret; it is replaced atomically.
    }
    if (parsed?.version !== CACHE_VERSION || parsed.secretId !== secretId) return EMPTY_CACHE;
    return parsed.state ?? EMPTY_CACHE;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache atomically: a new file created with mode 0600 (never widened by umask later), then renamed over the old. */
export function writeCache(path, secretId, state) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify({ version: CACHE_VERSION, secretId, state }));
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/**
 * Runs `work` holding the cache's lock file, so processes started together make one read between
 * them; the others wait for it and find the cache fresh. A lock older than LOCK_STALE_MS is taken over
 * (its process died). Returns undefined when the lock stayed busy for `waitMs`.
 */
async function withLock(path, waitMs, work) {
  const lock = `${path}.lock`;
  // The first run makes the cache's directory (only its owner may enter it), so the lock has a place.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw new CredentialProcessError(`Cannot create the lock file ${lock} (${error.code}).`);
      try {
        const { mtimeMs } = fstatSafe(lock);
        if (Date.now() - mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
      } catch {
        // Gone meanwhile: try again.
      }
      if (Date.now() >= until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // Taken over as stale: nothing to release.
    }
  }
}

function fstatSafe(path) {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

// ---- credentials to read the secret with --------------------------------------------------------------

/** Sections of an ini file (`[name]` → key/value pairs), as the shared config and credentials files are written. */
function readIni(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const sections = {};
  let current;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = sections[header[1].trim()] ??= {};
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (pair && current) current[pair[1].trim().toLowerCase()] = pair[2];
  }
  return sections;
}

function profileSettings(profile) {
  const home = homedir();
  const config = readIni(process.env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'));
  const credentials = readIni(process.env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'));
  const fromConfig =
    config[profile === 'default' ? 'default' : `profile ${profile}`] ?? (profile === 'default' ? undefined : config[profile]);
  return { ...(fromConfig ?? {}), ...(credentials[profile] ?? {}), known: Boolean(fromConfig || credentials[profile]) };
}

async function readerCredentials(options) {
  if (options.profile) {
    const settings = profileSettings(options.profile);
    if (settings.aws_access_key_id && settings.aws_secret_access_key) {
      return {
        accessKeyId: settings.aws_access_key_id,
        secretAccessKey: settings.aws_secret_access_key,
        sessionToken: settings.aws_session_token,
        region: settings.region,
      };
    }
    if (!settings.known)
      throw new CredentialProcessError(`Profile ${options.profile} (--profile) is in neither the shared config nor the credentials file.`);
    // Roles, SSO and the rest need the SDK; it is used when installed next to this script.
    let sdk;
    try {
      sdk = await import('@aws-sdk/credential-provider-node');
    } catch {
      throw new CredentialProcessError(
        `Profile ${options.profile} has no static keys, and reading other kinds of profile (roles, SSO) needs @aws-sdk/credential-provider-node ` +
          'installed where this script is. Install it there, or give a profile with aws_access_key_id and aws_secret_access_key.',
      );
    }
    const resolved = await sdk.defaultProvider({ profile: options.profile })();
    return { ...resolved, region: settings.region };
  }
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey, sessionToken };
  throw new CredentialProcessError(
    'No credentials to read the secret with: give --profile NAME (a profile allowed secretsmanager:GetSecretValue on the secret), ' +
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --self-refresh with an existing cache.',
  );
}

// ---- AWS requests, signed with Signature Version 4 ----------------------------------------------------

function regionOf(options, reader) {
  const fromArn = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(options.secretId)?.[1];
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? fromArn ?? reader?.region;
  if (!region) throw new CredentialProcessError('No region: give --region, set AWS_REGION, or give the secret as an ARN.');
  return region;
}

function endpointOf(options, service, region) {
  const variable = service === 'secretsmanager' ? 'AWS_ENDPOINT_URL_SECRETS_MANAGER' : 'AWS_ENDPOINT_URL_STS';
  return options.endpointUrl ?? process.env[variable] ?? process.env.AWS_ENDPOINT_URL ?? `https://${service}.${region}.amazonaws.com`;
}

async function signedRequest({ credentials, region, service, endpoint, headers, body }) {
  const { createHash, createHmac } = await import('node:crypto');
  const url = new URL(endpoint);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
  const hmac = (key, text) => createHmac('sha256', key).update(text, 'utf8').digest();
  const all = { ...headers, host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': sha256(body) };
  if (credentials.sessionToken) all['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(all)
    .map((name) => name.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(all).map(([name, value]) => [name.toLowerCase(), String(value).trim()]));
  const canonical = [
    'POST',
    url.pathname || '/',
    '',
    ...names.map((name) => `${name}:${lower[name]}`),
    '',
    names.join(';'),
    sha256(body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  lower.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  // A User-Agent of its own, so CloudTrail (and the rotator's consumer list) tells these calls from the
  // tool's own. Not signed, as the SDKs leave it unsigned (proxies may rewrite it).
  lower['user-agent'] = `iam-key-rotator-credential-process/1 node/${process.versions.node}`;
  const transport = await import(url.protocol === 'http:' ? 'node:http' : 'node:https');
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: 'POST', headers: lower, timeout: 10_000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('timeout', () => request.destroy(new Error(`${service} at ${url.host} did not answer within 10 s`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** The AWSCURRENT key of the secret. Errors carry AWS's code and message, never the secret's text. */
async function readSecret(options, credentials, region) {
  const response = await signedRequest({
    credentials,
    region,
    service: 'secretsmanager',
    endpoint: endpointOf(options, 'secretsmanager', region),
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: JSON.stringify({ SecretId: options.secretId, VersionStage: 'AWSCURRENT' }),
  });
  let parsed;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    throw new AwsError(
      'InvalidResponse',
      `Secrets Manager answered HTTP ${response.status} with something that is not JSON`,
      response.status,
    );
  }
  if (response.status !== 200) {
    const code = String(parsed.__type ?? parsed.code ?? 'UnknownError')
      .split('#')
      .pop();
    throw new AwsError(code, parsed.message ?? parsed.Message ?? `HTTP ${response.status}`, response.status);
  }
  let key;
  try {
    key = JSON.parse(parsed.SecretString ?? '');
  } catch {
    // No cause: JSON.parse's message quotes the text, which is the secret.
    throw new AwsError(
      'InvalidSecret',
      `Secret ${options.secretId} does not hold JSON; expected {"AccessKeyId": ..., "SecretAccessKey": ...}`,
      200,
    );
  }
  if (typeof key?.AccessKeyId !== 'string' || typeof key.SecretAccessKey !== 'string') {
    throw new AwsError('InvalidSecret', `Secret ${options.secretId} has no AccessKeyId and SecretAccessKey fields`, 200);
  }
  return { AccessKeyId: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey };
}

/** Whether AWS accepts the key: false when it is refused as deleted, Inactive or unknown; throws on anything else. */
async function keyWorks(options, key, region) {
  const response = await signedRequest({
    credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
    region,
    service: 'sts',
    endpoint: endpointOf(options, 'sts', region),
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  });
  if (response.status === 200) return true;
  const code = /<Code>([^<]+)<\/Code>/.exec(response.text)?.[1] ?? `HTTP${response.status}`;
  if (STALE_KEY_ERRORS.has(code)) return false;
  throw new AwsError(code, /<Message>([^<]*)<\/Message>/.exec(response.text)?.[1] ?? `HTTP ${response.status}`, response.status);
}

// ---- the run --------------------------------------------------------------------------------------

function output(key, expiresAt) {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: key.AccessKeyId,
    SecretAccessKey: key.SecretAccessKey,
    Expiration: new Date(expiresAt).toISOString(),
  });
}

function unavailable(options, state) {
  const reason = state.lastError ? `${state.lastError.name}: ${state.lastError.message}` : 'no key cached';
  return new CredentialProcessError(
    `Could not read the access key from secret ${options.secretId} (${state.failures} failed read${state.failures === 1 ? '' : 's'} in a row; ` +
      `next read at ${new Date(state.retryAt).toISOString()}): ${reason}. Check that the reading credentials may call ` +
      'secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key), and the region.',
  );
}

/** The credential_process JSON for these options, reading the secret only when the cache says so. */
export async function credentials(options, { now = Date.now, random = Math.random } = {}) {
  let state = readCache(options.cacheFile, options.secretId);
  let step = nextStep(state, options.policy, now());
  let region;
  if (step.kind === 'use' && options.check) {
    region = regionOf(options, options.profile ? profileSettings(options.profile) : undefined);
    let works = true;
    try {
      works = await keyWorks(options, step.key, region);
    } catch (error) {
      // The check is advisory: STS unreachable or throttled says nothing against the key, which is served.
      process.stderr.write(
        `iam-key-rotator credential_process: --check could not ask STS (${error?.name ?? 'Error'}); the cached key is used.\n`,
      );
    }
    if (!works) {
      state = { ...state, refused: true };
      writeCache(options.cacheFile, options.secretId, state);
      step = nextStep(state, options.policy, now());
    }
  }
  if (step.kind === 'wait') {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, step.until - now())));
    step = { kind: 'read' };
  }
  if (step.kind === 'read') {
    const read = async () => {
      // Another process may have read it while this one waited for the lock.
      const latest = readCache(options.cacheFile, options.secretId);
      const latestStep = nextStep(latest, options.policy, now());
      if (latestStep.kind !== 'read' && latest.lastReadAt > state.lastReadAt) return latest;
      const startedAt = now();
      let next;
      try {
        const reader =
          options.selfRefresh && latest.key && !latest.refused
            ? { accessKeyId: latest.key.AccessKeyId, secretAccessKey: latest.key.SecretAccessKey }
            : await readerCredentials(options);
        region ??= regionOf(options, reader);
        next = afterRead(await readSecret(options, reader, region), options.policy, startedAt, random());
      } catch (error) {
        if (error instanceof CredentialProcessError) throw error;
        next = afterFailure(latest, options.policy, startedAt, error, random());
      }
      writeCache(options.cacheFile, options.secretId, next);
      return next;
    };
    state = (await withLock(options.cacheFile, 5_000, read)) ?? readCache(options.cacheFile, options.secretId);
    step = nextStep(state, options.policy, now());
    // A read slower than the TTL leaves a key already due again: it is fresh for this run.
    if (step.kind === 'read' && state.key && !state.refused && state.failures === 0) step = { kind: 'use', key: state.key };
  }
  if (step.kind !== 'use') throw unavailable(options, state);
  // While reads fail, the stale key is handed out until the next read is due.
  const expiresAt = Math.max(now() + 1_000, state.failures > 0 ? state.retryAt : state.freshUntil) + options.expiryWindowMs;
  return output(step.key, expiresAt);
}

async function main() {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (options.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    process.stdout.write(`${await credentials(options)}\n`);
    return 0;
  } catch (error) {
    const message =
      error instanceof CredentialProcessError ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`;
    process.stderr.write(`iam-key-rotator credential_process: ${message}\n`);
    return 1;
  }
}

// Run as a script (not when imported by the tests). No top-level await, so CommonJS test runners can load it.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
