import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * One SigV4-signed JSON request to an AWS service, sent with fetch: for the few single operations
 * where the service's SDK client would cost more bundle and cold start than the call is worth
 * (SSM's GetParameter: 76 KB, most of it a registry of 141 modeled errors; Security Hub: the whole
 * finding format). Signing is the SDK's own SignatureV4, which every bundle already holds.
 * Throttling and server errors are retried with jittered backoff, as the SDK's standard retry does.
 */

export interface SignedJsonOptions {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** The service endpoint: AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL (moto locally), else the Regional one. */
  readonly endpoint: string;
  readonly fetch?: typeof fetch;
  readonly maxAttempts?: number;
}

export interface JsonRequest {
  readonly path: string;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly contentType?: string;
}

/** The error an AWS service answered with: `name` is its error code (ParameterNotFound, AccessDeniedException…), as SDK errors' names are. */
export class AwsServiceError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The endpoint the SDK would use: AWS_ENDPOINT_URL_<SERVICE ID>, then AWS_ENDPOINT_URL, then the Regional one. */
export function serviceEndpoint(envName: string, host: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env[`AWS_ENDPOINT_URL_${envName}`] ?? env.AWS_ENDPOINT_URL ?? `https://${host}`;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const THROTTLING = /Throttl|TooManyRequests|RequestLimitExceeded/;

export function signedJsonClient(options: SignedJsonOptions): (request: JsonRequest) => Promise<unknown> {
  const endpoint = new URL(options.endpoint);
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: options.service, sha256: Sha256 });
  const send = options.fetch ?? fetch;
  const maxAttempts = options.maxAttempts ?? 4;
  return async (request) => {
    const text = JSON.stringify(request.body);
    for (let attempt = 1; ; attempt += 1) {
      const signed = await signer.sign({
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path: `${endpoint.pathname.replace(/\/$/, '')}${request.path}`,
        headers: { host: endpoint.host, 'content-type': request.contentType ?? 'application/json', ...request.headers },
        body: text,
        query: {},
      });
      const response = await send(new URL(signed.path, endpoint), { method: 'POST', headers: signed.headers, body: text });
      const raw = await response.text();
      if (response.ok) return raw === '' ? {} : (JSON.parse(raw) as unknown);
      const { code, message } = errorOf(raw, response.headers.get('x-amzn-errortype'), response.status);
      if ((RETRYABLE_STATUS.has(response.status) || THROTTLING.test(code)) && attempt < maxAttempts) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
        continue;
      }
      throw new AwsServiceError(code, message, response.status);
    }
  };
}

/** AWS JSON protocols name the error in `__type` (JSON 1.x, maybe prefixed `namespace#`) or in the x-amzn-ErrorType header (REST-JSON, maybe suffixed `:url`). */
function errorOf(raw: string, header: string | null, status: number): { code: string; message: string } {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    parsed = {};
  }
  const typed = typeof parsed.__type === 'string' ? parsed.__type : (header ?? '');
  const code = typed.split('#').at(-1)?.split(':')[0] || `HTTP${status}`;
  const message = parsed.message ?? parsed.Message;
  return { code, message: typeof message === 'string' ? message.slice(0, 500) : `HTTP ${status}` };
}
