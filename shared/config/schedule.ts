import { ConfigError } from '../base/errors.ts';

/**
 * Validates an EventBridge schedule expression (serverless.yml's `scanSchedule` param) before it
 * reaches CloudFormation, which would only fail the deploy halfway with a terse message.
 * - `rate(N unit)`: N a positive whole number; unit minute, hour or day (plural unless N is 1).
 * - `cron(min hour day-of-month month day-of-week year)`: six fields, and one of day-of-month and
 *   day-of-week must be `?`.
 */
const RATE = /^rate\((\d{1,6}) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]*)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#L W-]{1,64}$/;

export function validateSchedule(expression: string, setting = 'scanSchedule'): string {
  const text = expression.trim();
  const fail = (why: string): never => {
    throw new ConfigError(`${setting} "${text.slice(0, 80)}" ${why}. Use e.g. rate(1 day), rate(12 hours) or cron(0 6 * * ? *).`);
  };
  const rate = RATE.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    if (value < 1) fail('must repeat at least every 1 unit (a rate of 0 never runs)');
    if (value === 1 && unit.endsWith('s')) fail(`must use the singular unit for 1 (rate(1 ${unit.slice(0, -1)}))`);
    if (value > 1 && !unit.endsWith('s')) fail(`must use the plural unit for ${value} (rate(${value} ${unit}s))`);
    return text;
  }
  const cron = CRON.exec(text);
  if (cron) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6)
      fail(`has ${fields.length} cron fields; EventBridge needs six (minutes hours day-of-month month day-of-week year)`);
    if (fields.some((field) => !CRON_FIELD.test(field))) fail('has a cron field with characters EventBridge does not accept');
    if ((fields[2] === '?') === (fields[4] === '?')) fail('must set exactly one of day-of-month and day-of-week to "?"');
    return text;
  }
  return fail('is not a schedule expression: use rate(N unit) or cron(six fields)');
}
