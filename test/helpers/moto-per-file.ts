import { beforeAll } from '@jest/globals';
import { resetMoto } from '../../local/moto.ts';

// Each test file starts from an empty account.
beforeAll(async () => {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: integration tests must run through the moto global setup.');
  await resetMoto(endpoint);
});
