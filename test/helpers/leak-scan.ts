import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { SERVICE_NAME } from '#shared/base/logger.ts';
import { readPublished } from './invariants.ts';

/**
 * The leak scan: every secret access key created while a test runs is recorded (an SDK middleware
 * on the IAM clients reads it from CreateAccessKey's response), and every place a secret must never
 * reach is captured: the handlers' logs, every state's input and output, the runner's reports, the
 * CLI's output, and what SNS published (moto's data.json). `assertClean` fails, naming the place,
 * if any recorded secret appears in any of them. Secrets Manager is the only place they may be.
 */

interface Stackable {
  readonly middlewareStack: MiddlewareStack<object, MetadataBearer>;
}

/** A DEBUG-level Powertools logger whose every line lands in `lines` (nothing reaches the terminal). */
export function bufferLogger(): { readonly logger: Logger; readonly lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      lines.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'DEBUG' });
  // Powertools writes through a private Console bound to process.stdout/stderr; point it at the buffer.
  const console = new Console({ stdout: sink, stderr: sink });
  console.trace = (...args: unknown[]) => console.log(...args);
  Reflect.set(logger, 'console', console);
  return { logger, lines };
}

let nextId = 0;

export class LeakScanner {
  private readonly secrets = new Map<string, string>();
  private readonly sinks = new Map<string, string[]>();
  private readonly log = bufferLogger();

  /** The logger to hand to runRotation: its lines are scanned. */
  get logger(): Logger {
    return this.log.logger;
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  /** Records the secret of every key the client creates. */
  watch<C extends Stackable>(client: C): C {
    nextId += 1;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'CreateAccessKeyCommand') {
          const key = (result.output as { AccessKey?: { AccessKeyId?: string; SecretAccessKey?: string } }).AccessKey;
          if (key?.SecretAccessKey) this.secrets.set(key.SecretAccessKey, key.AccessKeyId ?? '?');
        }
        return result;
      },
      { step: 'initialize', name: `leak-scan-${nextId}` },
    );
    return client;
  }

  /** A secret created outside a watched client (e.g. a fixture's seed key). */
  addSecret(secretAccessKey: string, accessKeyId: string): void {
    if (secretAccessKey) this.secrets.set(secretAccessKey, accessKeyId);
  }

  /** Keeps a piece of output to scan, under a label that says where it came from. */
  capture(place: string, value: unknown): void {
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    const list = this.sinks.get(place) ?? [];
    list.push(text);
    this.sinks.set(place, list);
  }

  /** The runner's onStateData, capturing every state's input and output. */
  readonly onStateData = (data: { readonly name: string; readonly input: unknown; readonly output: unknown }): void => {
    this.capture(`state ${data.name} input`, data.input);
    this.capture(`state ${data.name} output`, data.output);
  };

  /** Where any recorded secret was found, as `place: key id` lines; empty when clean. SNS is read from moto. */
  async findings(): Promise<string[]> {
    const places = new Map(this.sinks);
    places.set('handler logs', this.log.lines);
    const published = await readPublished();
    places.set(
      'SNS messages',
      published.map((message) => JSON.stringify(message)),
    );
    const found: string[] = [];
    for (const [place, texts] of places) {
      for (const [secret, accessKeyId] of this.secrets) {
        if (texts.some((text) => text.includes(secret))) found.push(`${place}: the secret of ${accessKeyId}`);
      }
    }
    return found;
  }

  /** How much was scanned, for the test output. */
  stats(): { secrets: number; logLines: number; captured: number } {
    let captured = 0;
    for (const texts of this.sinks.values()) captured += texts.length;
    return { secrets: this.secrets.size, logLines: this.log.lines.length, captured };
  }
}
