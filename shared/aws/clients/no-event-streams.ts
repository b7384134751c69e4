/**
 * The Lambda bundles' `@smithy/core/event-streams` (an esbuild alias in serverless.yml). The SDK
 * loads its event-stream codec only for operations that stream events, and none of the services we
 * call has one; bundling the codec would cost every cold start its parsing. If a future call does
 * stream, it fails here with a message that says what to change instead of silently misbehaving.
 */
const unsupported = (): never => {
  throw new Error(
    'This Lambda bundle has no event-stream support: serverless.yml aliases @smithy/core/event-streams to shared/aws/clients/no-event-streams.ts. Remove that alias to call an operation that streams events.',
  );
};

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

export const eventStreamSerdeProvider = unsupported;

/**
 * Every CloudWatch Logs client resolves its event-stream config at construction (StartLiveTail
 * streams), so this must not throw: the client is built without a marshaller, and only a streaming
 * call, which the rotator never makes, would fail.
 */
export const resolveEventStreamSerdeConfig = <T extends object>(input: T): T => input;
