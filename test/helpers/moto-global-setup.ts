import { startMoto } from '../../local/moto.ts';

// One moto_server per test run; its endpoint reaches every test file through the environment.
export default async function globalSetup(): Promise<void> {
  const moto = await startMoto();
  (globalThis as { __MOTO__?: typeof moto }).__MOTO__ = moto;
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_DEFAULT_REGION = 'us-east-1';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  // CI=true makes picocolors colour its output; tests read plain text, as a pipe would give them.
  process.env.NO_COLOR = '1';
}
