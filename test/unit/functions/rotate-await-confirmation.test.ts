import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { awaitConfirmationStep } from '#functions/rotate-await-confirmation.ts';
import { localContext } from '#local/lambda-context.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';
import { capturingLogger } from '../../helpers/rotation-fixtures.ts';

const TOKEN = 'AAAAKgAAAAIAAAAAAAAAAtaskTokenThatConfirmsTheRotation';

describe('AwaitConfirmation never logs its event', () => {
  const saved = process.env.POWERTOOLS_LOGGER_LOG_EVENT;
  beforeEach(() => {
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    else process.env.POWERTOOLS_LOGGER_LOG_EVENT = saved;
  });

  test('even with POWERTOOLS_LOGGER_LOG_EVENT=true, no log line holds the task token', async () => {
    // Prepare: a logger that would log the event (checked), and the step's handler
    const { logger, lines, restore } = capturingLogger();
    try {
      // The variable is on for this logger: without the step's explicit logEvent: false it would log the event.
      expect(logger.shouldLogEvent()).toBe(true);
      const handler = awaitConfirmationStep(async () => rotationDeps({ logger }), logger);

      // Act
      // An input that fails validation: the step logs its refusal, never the event it refused.
      await handler({ taskToken: TOKEN, userName: 'alice' }, localContext('rotateAwaitConfirmation')).catch(() => undefined);
    } finally {
      restore();
    }

    // Assess
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines.join('\n')).not.toContain('Lambda invocation event');
  });
});
