/**
 * Settings every SDK client shares. The SDK's own adaptive retry strategy handles throttling;
 * AWS_ENDPOINT_URL points the clients at moto locally.
 */
export const CLIENT_DEFAULTS = { maxAttempts: 5, retryMode: 'adaptive' } as const;
