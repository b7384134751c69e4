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
  // The e2e scenarios choose each user's checks by tag (rotation:health-checks=manual and the like),
  // which replaces the default check; an account allows that with ALLOW_TAG_CHECK_REMOVAL. Its false
  // default is tested in test/unit/config/user-settings.test.ts.
  process.env.ALLOW_TAG_CHECK_REMOVAL ??= 'true';
  // CI=true makes picocolors colour its output; tests read plain text, as a pipe would give them.
  process.env.NO_COLOR = '1';
}
