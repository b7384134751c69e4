import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through the proxy: who signed it and what it asked for (never its body or signature). */
export interface ProxiedRequest {
  readonly at: number;
  /** The key id of the SigV4 Authorization header; undefined for an unsigned request. */
  readonly accessKeyId: string | undefined;
  /** `GetSecretValue`, `GetCallerIdentity`…: the X-Amz-Target's operation, or a query request's Action. */
  readonly operation: string;
  readonly userAgent: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export interface ProxyAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Decides a request's answer: `forward()` sends it on to moto unchanged; a hook may answer instead
 * (refuse a key as AWS would) or do something around it (record it).
 */
export type ProxyHook = (request: ProxiedRequest, forward: () => Promise<ProxyAnswer>) => Promise<ProxyAnswer>;

/**
 * An HTTP proxy in front of moto for consumers that are other processes (the AWS CLI, Python, the
 * credential_process script): they get its endpoint instead of moto's, and the test sees each request
 * they make. Headers go on unchanged (Host included), so a SigV4 signature still verifies at moto.
 */
export class AwsProxy {
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    readonly requests: ProxiedRequest[],
  ) {}

  static async start(target: string, hook?: ProxyHook): Promise<AwsProxy> {
    const upstream = new URL(target);
    const requests: ProxiedRequest[] = [];
    const server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const forward = (): Promise<ProxyAnswer> =>
          new Promise((resolve, reject) => {
            const sent = httpRequest(
              { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
              (response) => {
                const parts: Buffer[] = [];
                response.on('data', (part: Buffer) => parts.push(part));
                response.on('end', () => {
                  const headers: Record<string, string> = {};
                  for (const [name, value] of Object.entries(response.headers)) {
                    if (typeof value === 'string' && name !== 'transfer-encoding' && name !== 'connection') headers[name] = value;
                  }
                  resolve({ status: response.statusCode ?? 502, headers, body: Buffer.concat(parts).toString('utf8') });
                });
              },
            );
            sent.on('error', reject);
            sent.end(body);
          });
        const seen: ProxiedRequest = {
          at: Date.now(),
          accessKeyId: /Credential=([A-Z0-9]+)\//.exec(String(incoming.headers.authorization ?? ''))?.[1],
          operation: operationOf(incoming.headers, body.toString('utf8')),
          userAgent: incoming.headers['user-agent'],
          headers: incoming.headers,
        };
        requests.push(seen);
        (hook ? hook(seen, forward) : forward()).then(
          (answer) => {
            const text = Buffer.from(answer.body, 'utf8');
            outgoing.writeHead(answer.status, { ...answer.headers, 'content-length': String(text.length) });
            outgoing.end(text);
          },
          (error: unknown) => {
            outgoing.writeHead(502, { 'content-type': 'text/plain' });
            outgoing.end(`proxy: ${error instanceof Error ? error.message : String(error)}`);
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new AwsProxy(server, `http://127.0.0.1:${port}`, requests);
  }

  count(operation: string): number {
    return this.requests.filter((seen) => seen.operation === operation).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function operationOf(headers: IncomingHttpHeaders, body: string): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? target;
  return new URLSearchParams(body).get('Action') ?? 'Unknown';
}
