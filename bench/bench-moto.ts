import { startMoto, type MotoServer } from '#local/moto.ts';

/**
 * A moto of the bench's own, with the environment the local runner's clients read pointed at it and
 * no topic, so a benchmarked rotation publishes nothing. Import the runner only after this: its
 * default clients read the environment when they are made.
 */
export async function startBenchMoto(): Promise<MotoServer> {
  const moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.NOTIFICATION_TOPIC_ARN;
  return moto;
}
