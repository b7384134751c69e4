import { beforeAll, jest } from '@jest/globals';
import { resetMoto } from '../../local/moto.ts';

// Jest reads `testTimeout` only from the top-level config, not from a project's: the integration
// project's minute for tests that drive moto is set here, where only that project runs.
jest.setTimeout(60_000);

// Each test file starts from an empty account.
beforeAll(async () => {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: integration tests must run through the moto global setup.');
  await resetMoto(endpoint);
});
