import { rotateCommand } from '../base/cli-commands.ts';
import { errorMessage, errorName } from '../base/errors.ts';
import { writeFindings, type FindingsOutcome } from '../findings/finding-writer.ts';
import { keyFinding, type KeyFindingState } from '../findings/key-findings.ts';
import type { NotificationRequestFacts } from '../notify/notifier.ts';
import type { RotationDeps } from './deps.ts';
import { executionArnFor } from '../base/execution-name.ts';
import type { WorkflowEvent } from '../config/notification-events.ts';

/** The workflow events that change what Security Hub should say about the rotated key. */
const STATE_OF: Partial<Record<WorkflowEvent, KeyFindingState>> = {
  'action-needed': 'needs-attention',
  'rolled-back': 'needs-attention',
  'rotation-failed': 'rotation-failed',
  'compromise-contained': 'compromised',
  'rotation-completed': 'resolved',
};

function remedyOf(state: KeyFindingState, facts: NotificationRequestFacts): string {
  const again = rotateCommand(facts.userName, facts.oldAccessKeyId);
  switch (state) {
    case 'needs-attention':
      return `Move the remaining consumers to ${facts.secretName ?? 'the user secret'} (AWSCURRENT), then: ${again}`;
    case 'rotation-failed':
      return `Fix the cause in the finding's description, then: ${again}`;
    case 'compromised':
      return 'Investigate with the incident summary of the critical notice (roles assumed, writes, keys created with the leaked key); set this finding RESOLVED in Security Hub once done.';
    default:
      return 'Nothing to do.';
  }
}

/**
 * The finding a workflow event leaves on the rotated key, in the Security Hub of the account that
 * holds it (a member account's through Notify's member session). Never throws and never delays the notice:
 * it runs after the notice went out, and a failure is logged for the next event to repair.
 */
export async function recordWorkflowFinding(
  event: {
    readonly name: WorkflowEvent;
    readonly executionName: string;
    readonly startedAt: string | undefined;
    readonly kind: string | undefined;
  },
  facts: NotificationRequestFacts,
  deps: RotationDeps,
): Promise<FindingsOutcome | null> {
  // A contained leak stays CRITICAL after its replacement is done: a person closes it, having read the incident.
  const state = event.kind === 'compromise' && event.name === 'rotation-completed' ? undefined : STATE_OF[event.name];
  const target = deps.securityHub;
  if (!deps.config.securityHubFindings || state === undefined || facts.oldAccessKeyId === undefined) return null;
  if (target === undefined) {
    if (deps.memberAccountId !== undefined) {
      deps.logger.info('Security Hub finding not written: no Security Hub client for the member account', {
        accountId: deps.memberAccountId,
      });
    }
    return null;
  }
  try {
    const accountId = await target.accountId();
    const userAccount = facts.accountId ?? accountId;
    // A finding is imported only by the account it names: the step's clients must be that account's (inAccount).
    if (userAccount !== accountId || (deps.memberAccountId !== undefined && deps.memberAccountId !== accountId)) {
      deps.logger.info('Security Hub finding not written: the step acts in another account than the key', { accountId: userAccount });
      return null;
    }
    const finding = keyFinding(
      {
        state,
        accountId,
        region: target.region,
        userName: facts.userName,
        accessKeyId: facts.oldAccessKeyId,
        owner: facts.owner ?? null,
        // The same on every event of this rotation: when it started.
        keyCreatedAt: event.startedAt ?? null,
        detail: facts.reason ?? `The rotation ended: ${event.name}.`,
        executionArn: deps.config.stateMachineArn ? executionArnFor(deps.config.stateMachineArn, event.executionName) : null,
        remedy: remedyOf(state, facts),
      },
      deps.clock(),
    );
    return await writeFindings(target.api, [finding], deps.logger);
  } catch (error) {
    deps.logger.warn('Security Hub finding not written; the next event writes it again', {
      detail: `${errorName(error)}: ${errorMessage(error)}`,
    });
    return null;
  }
}
