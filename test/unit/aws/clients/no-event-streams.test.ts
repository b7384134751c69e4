import { describe, expect, test } from '@jest/globals';
import { EventStreamSerde, eventStreamSerdeProvider } from '#shared/aws/clients/no-event-streams.ts';

// The deployed bundles' stand-in for the SDK's event-stream codec (serverless.yml alias): an
// operation that streams would reach it only after someone adds one, and must then fail loudly.
describe('the event-stream stand-in', () => {
  test('refuses to build a codec, naming the alias to remove', () => {
    // Act & Assess
    expect(() => new EventStreamSerde()).toThrow('serverless.yml aliases @smithy/core/event-streams');
    expect(() => eventStreamSerdeProvider()).toThrow('Remove that alias');
  });
});
