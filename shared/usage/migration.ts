import type { TrustProposal } from './trust-proposal.ts';

/**
 * The steps from a user's keys to roles, for a person, in the order that never locks a consumer out:
 * every consumer on its role first, then the key idle, then the key gone (README, "Roles beat keys").
 * Commands are printed, never run: nothing is created in the account.
 */

export interface ConsumerMove {
  /** `198.51.100.7 aws-cli/2`. */
  readonly consumer: string;
  readonly trustFile: string;
  readonly trust: TrustProposal;
  /** The actions this consumer used: policy.json serves every consumer, and one role may need less. */
  readonly actions: readonly string[];
}

export function migrationChecklist(input: {
  readonly userName: string;
  readonly accessKeyIds: readonly string[];
  readonly policyFile: string;
  readonly moves: readonly ConsumerMove[];
  /** What the evidence could not see: a consumer or a call it hides must be found before the key is cut. */
  readonly blindSpots: readonly string[];
  /** Roles the key assumed (sts:AssumeRole's resources): their trust policies name the user, not the new roles. */
  readonly assumedRoles?: readonly string[];
}): string[] {
  const role = (index: number): string => `${input.userName}-consumer-${index + 1}`;
  const steps: string[] = [
    `Review ${input.policyFile}: it holds only what the evidence showed. Add what the blind spots below may hide (data events, other regions), then create it: aws iam create-policy --policy-name ${input.userName}-least-privilege --policy-document file://${input.policyFile}`,
  ];
  if (input.assumedRoles !== undefined && input.assumedRoles.length > 0)
    steps.push(
      `The key assumes ${input.assumedRoles.join(', ')}: each role's trust policy must allow the new roles (today it allows the user, or its whole account, where the user's own policy decides). Add them before the switch, or the consumers lose those roles; remove the user once the key is gone.`,
    );
  const all = new Set(input.moves.flatMap((move) => move.actions));
  input.moves.forEach((move, index) => {
    const narrower =
      move.actions.length < all.size
        ? ` It used only ${move.actions.join(', ') || 'no allowed action'}: cut its copy of the policy down to those.`
        : '';
    const placeholders = move.trust.placeholders.length > 0 ? ` Fill in first: ${move.trust.placeholders.join('; ')}.` : '';
    steps.push(
      `${move.consumer} → ${move.trust.kind}.${narrower}${placeholders} Create the role: aws iam create-role --role-name ${role(index)} --assume-role-policy-document file://${move.trustFile}, then attach the policy (aws iam attach-role-policy --role-name ${role(index)} --policy-arn <POLICY-ARN>). Switch: ${move.trust.howToSwitch}.`,
    );
  });
  steps.push(
    `Watch the key go quiet: iam-key-rotator consumers ${input.userName} lists no consumer after the switch, and iam-key-rotator scan shows the key unused.`,
    `Retire each key: ${input.accessKeyIds.map((id) => `iam-key-rotator retire ${input.userName} --key ${id}`).join('; ') || '(the user has no keys)'} (add --delete-secret to the last one). It waits until no consumer has used the key for the quiet period, deactivates it, observes (iam-key-rotator abort reactivates it), then deletes it.`,
    `Once every key is retired, delete the user (aws iam delete-user, after its policies and groups).`,
  );
  if (input.blindSpots.length > 0) steps.push(`The evidence could not see: ${input.blindSpots.join('; ')}.`);
  return steps;
}
