import { describe, expect, test } from '@jest/globals';
import { EventStreamSerde, eventStreamSerdeProvider, resolveEventStreamSerdeConfig } from '#shared/aws/clients/no-event-streams.ts';

// The deployed bundles' stand-in for the SDK's event-stream codec (serverless.yml alias): an
// operation that streams would reach it only after someone adds one, and must then fail loudly.
describe('the event-stream stand-in', () => {
  test('refuses to build a codec, naming the alias to remove', () => {
    // Act & Assess
    expect(() => new EventStreamSerde()).toThrow('serverless.yml aliases @smithy/core/event-streams');
    expect(() => eventStreamSerdeProvider()).toThrow('Remove that alias');
  });

  test('lets a client that resolves a marshaller when it is built (CloudWatch Logs) be built, and refuses its use', () => {
    // Act
    const config = resolveEventStreamSerdeConfig({ region: 'us-east-1' }) as {
      region: string;
      eventStreamMarshaller: Record<string, () => unknown>;
    };

    // Assess
    expect(config.region).toBe('us-east-1');
    expect(() => config.eventStreamMarshaller.serialize?.()).toThrow('serverless.yml aliases @smithy/core/event-streams');
  });
});
