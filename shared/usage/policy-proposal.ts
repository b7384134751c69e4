import { isUnscoped, unscopedReason } from './actions.ts';
import type { ActionUse } from './key-usage.ts';

/**
 * A least-privilege identity policy for the role that replaces a key: the actions its calls were
 * allowed and used, grouped by service, each on the resources the records name, as ARNs. "*" only
 * where the records force it (an action that takes no resource, or one whose records named none),
 * and a note says which it was. Calls refused by authorization are not proposed: the key does not
 * have them today. Nothing here widens a resource to a pattern: where many objects of one bucket were
 * used, a note suggests the prefix they share, for a person to choose (it grants more than was seen).
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyProposal {
  readonly document: PolicyDocument;
  /** For a person: every "*" and why, every prefix worth considering, every action left out. */
  readonly notes: readonly string[];
  /** The document's length without white space, which is what IAM counts against its quotas. */
  readonly characters: number;
}

/** IAM's quota for a managed policy's document, without white space ("IAM and AWS STS quotas"). */
export const MANAGED_POLICY_MAX_CHARS = 6144;
/** More object ARNs than this for one action in one bucket get a note suggesting their common prefix. */
export const MAX_OBJECT_ARNS = 20;

export function proposePolicy(actions: readonly ActionUse[]): PolicyProposal {
  const notes: string[] = [];
  const scoped = new Map<string, string[]>();
  for (const use of actions) {
    if (use.allowed === 0) {
      notes.push(
        `${use.action} was refused ${use.refused} time(s) (${use.events.join(', ')}) and is left out: the key does not have it today; add it only if the consumer needs it`,
      );
      continue;
    }
    if (isUnscoped(use.action)) {
      scoped.set(use.action, ['*']);
      notes.push(unscopedReason(use.action));
      continue;
    }
    if (use.resources.length === 0) {
      scoped.set(use.action, ['*']);
      notes.push(
        `${use.action}: no resource could be read from its records (${use.events.join(', ')}), so it is proposed on "*": scope it by hand to what the consumer uses`,
      );
      continue;
    }
    const resources = [...use.resources];
    notes.push(...prefixSuggestions(use.action, resources));
    if (use.withoutResource > 0)
      notes.push(
        `${use.action}: ${use.withoutResource} of its ${use.allowed} calls named no resource; the policy lists only the resources the others named: check they are all it needs`,
      );
    scoped.set(use.action, resources);
  }
  const document: PolicyDocument = { Version: '2012-10-17', Statement: statementsOf(scoped) };
  if (document.Statement.length === 0)
    notes.push(
      'no allowed call was seen in the window, so the policy grants nothing (IAM refuses a policy without statements): read a longer window, or a trail that logs data events, before replacing the key',
    );
  const characters = JSON.stringify(document).length;
  if (characters > MANAGED_POLICY_MAX_CHARS)
    notes.push(
      `the policy is ${characters} characters, over the ${MANAGED_POLICY_MAX_CHARS} a managed policy may hold: split it in two, or use an inline role policy (10,240)`,
    );
  return { document, notes, characters };
}

/** One statement per service and resource list, its Sid the service's name (alphanumeric, as IAM requires), `Used` and a number. */
function statementsOf(scoped: ReadonlyMap<string, readonly string[]>): PolicyStatement[] {
  const groups = new Map<string, { service: string; actions: string[]; resources: readonly string[] }>();
  for (const [action, resources] of [...scoped.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const service = action.split(':')[0] ?? action;
    const key = `${service}\n${resources.join('\n')}`;
    const group = groups.get(key) ?? { service, actions: [], resources };
    group.actions.push(action);
    groups.set(key, group);
  }
  const counts = new Map<string, number>();
  return [...groups.values()].map((group) => {
    const n = (counts.get(group.service) ?? 0) + 1;
    counts.set(group.service, n);
    const base = group.service.replace(/[^A-Za-z0-9]/g, '');
    return {
      // "S3Used1" rather than "S31": a service name ending in a digit would run into the number.
      Sid: `${base.charAt(0).toUpperCase()}${base.slice(1)}Used${n}`,
      Effect: 'Allow',
      Action: group.actions,
      Resource: group.resources,
    };
  });
}

/**
 * Where one action used more than MAX_OBJECT_ARNS objects of a bucket, the deepest folder they share,
 * as a note: a policy listing thousands of keys passes IAM's size quota and goes stale with the next
 * file the consumer writes, but the prefix grants every object under it, which no record showed; the
 * person decides.
 */
function prefixSuggestions(action: string, resources: readonly string[]): string[] {
  if (!action.startsWith('s3:')) return [];
  const byBucket = new Map<string, string[]>();
  for (const arn of resources) {
    const match = /^(arn:[\w-]+:s3:::[^/]+)\/.+$/.exec(arn);
    if (match?.[1] !== undefined) byBucket.set(match[1], [...(byBucket.get(match[1]) ?? []), arn]);
  }
  const notes: string[] = [];
  for (const [bucket, arns] of byBucket) {
    if (arns.length <= MAX_OBJECT_ARNS) continue;
    const prefix = commonPrefix(arns.map((arn) => arn.slice(bucket.length + 1)));
    // Cut at the last '/': a prefix ending mid-name ("reports/2026-1") would read as if it meant something.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    notes.push(
      `${action}: ${arns.length} objects of ${bucket.slice(bucket.lastIndexOf(':') + 1)} were used and are listed one by one; ${bucket}/${folder}* would cover them, and every other object under it: use it only if the consumer may read them all`,
    );
  }
  return notes;
}

function commonPrefix(values: readonly string[]): string {
  let prefix = values[0] ?? '';
  for (const value of values) while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}
