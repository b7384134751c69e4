import { RULE_DELIVERY } from '#shared/start/triggers.ts';

/** The ARN the sample deliveries name, as EventBridge fills <aws.events.rule-arn>. */
export const SAMPLE_RULE_ARN = 'arn:aws:events:us-east-1:123456789012:rule/iam-key-rotator-test-health';

/** An event as the stack's EventBridge rules deliver it to start-rotation (serverless.yml's inputTransformer). */
export function viaRule(event: unknown, rule: string = SAMPLE_RULE_ARN): { deliveredBy: string; rule: string; event: unknown } {
  return { deliveredBy: RULE_DELIVERY, rule, event };
}
