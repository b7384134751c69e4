import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type CloudWatchLogsClient,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Logger } from '@aws-lambda-powertools/logger';

/** PutLogEvents takes up to 10,000 events and 1 MB per call; a record is about 1 KB. */
const MAX_BATCH = 500;

interface Queued {
  readonly event: InputLogEvent;
  readonly done: (written: boolean) => void;
}

/**
 * Appends records to the log group, one stream per account and region as CloudTrail names them
 * (`<account id>_CloudTrail_<region>`). Calls made meanwhile share the next PutLogEvents.
 */
export class TrailWriter {
  private readonly streams = new Map<string, Promise<void>>();
  private readonly queues = new Map<string, Queued[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private group: Promise<void> | undefined;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    readonly logGroupName: string,
    private readonly logger: Logger,
  ) {}

  /** Resolves true once written, false if the group would not take it; never rejects. */
  write(stream: string, event: InputLogEvent): Promise<boolean> {
    return new Promise((done) => {
      const queue = this.queues.get(stream) ?? [];
      queue.push({ event, done });
      this.queues.set(stream, queue);
      this.pump(stream, queue);
    });
  }

  private pump(stream: string, queue: Queued[]): void {
    if (this.draining.has(stream)) return;
    const draining = this.drain(stream, queue).finally(() => {
      this.draining.delete(stream);
      // A record queued after the drain's last look at the queue, before this ran.
      if (queue.length > 0) this.pump(stream, queue);
    });
    this.draining.set(stream, draining);
  }

  /** Resolves when nothing is waiting to be written. */
  async idle(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining.values());
  }

  private async drain(stream: string, queue: Queued[]): Promise<void> {
    while (queue.length > 0) {
      // Within one call PutLogEvents wants the events in time order.
      const batch = queue.splice(0, MAX_BATCH).sort((a, b) => (a.event.timestamp ?? 0) - (b.event.timestamp ?? 0));
      const written = await this.put(
        stream,
        batch.map((item) => item.event),
      );
      batch.forEach((item, index) => item.done(written[index] ?? false));
    }
  }

  private async put(stream: string, events: InputLogEvent[], again = true): Promise<boolean[]> {
    try {
      await this.ensureStream(stream);
      const response = await this.logs.send(
        new PutLogEventsCommand({ logGroupName: this.logGroupName, logStreamName: stream, logEvents: events }),
      );
      const rejected = response.rejectedLogEventsInfo;
      return events.map(
        (_, index) =>
          !(
            (rejected?.tooNewLogEventStartIndex !== undefined && index >= rejected.tooNewLogEventStartIndex) ||
            (rejected?.tooOldLogEventEndIndex !== undefined && index <= rejected.tooOldLogEventEndIndex) ||
            (rejected?.expiredLogEventEndIndex !== undefined && index <= rejected.expiredLogEventEndIndex)
          ),
      );
    } catch (error) {
      // The group or stream went away (a moto reset between tests): create them again, once.
      if (again && error instanceof Error && error.name === 'ResourceNotFoundException') {
        this.group = undefined;
        this.streams.clear();
        return this.put(stream, events, false);
      }
      this.logger.warn('local CloudTrail records not written', {
        logGroupName: this.logGroupName,
        logStreamName: stream,
        records: events.length,
        errorName: error instanceof Error ? error.name : 'unknown',
      });
      return events.map(() => false);
    }
  }

  private ensureStream(stream: string): Promise<void> {
    let ready = this.streams.get(stream);
    if (!ready) {
      ready = this.ensureGroup().then(() =>
        ignoreExisting(this.logs.send(new CreateLogStreamCommand({ logGroupName: this.logGroupName, logStreamName: stream }))),
      );
      this.streams.set(stream, ready);
      const created = ready;
      created.catch(() => {
        if (this.streams.get(stream) === created) this.streams.delete(stream);
      });
    }
    return ready;
  }

  private ensureGroup(): Promise<void> {
    if (!this.group) {
      const creating = ignoreExisting(this.logs.send(new CreateLogGroupCommand({ logGroupName: this.logGroupName })));
      this.group = creating;
      creating.catch(() => {
        if (this.group === creating) this.group = undefined;
      });
    }
    return this.group;
  }
}

async function ignoreExisting(creating: Promise<unknown>): Promise<void> {
  try {
    await creating;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceAlreadyExistsException')) throw error;
  }
}
