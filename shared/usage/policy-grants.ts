import type { PolicySource } from '../aws/user-policies.ts';
import { needsNoPermission } from './actions.ts';
import { actionMatches } from '../aws/iam-action.ts';

export type { PolicyKind, PolicySource } from '../aws/user-policies.ts';

/**
 * What a user's identity policies grant, action by action, and which of those grants its keys never
 * used. Only what can be compared honestly is: a literal action (`s3:PutObject`) is granted or not;
 * a wildcard grant (`s3:Get*`, `*`) is reported as written with the used actions it covers, never
 * expanded into a list of actions this code would have to know in full; a NotAction grant is
 * reported as such. Deny statements take nothing away here (they are listed, not evaluated), and
 * conditions and resources are not weighed: "never used" means no call needed the action at all.
 */

export interface Grant {
  /** The action or pattern as written (`s3:GetObject`, `s3:Get*`, `*`). */
  readonly action: string;
  readonly effect: 'Allow' | 'Deny';
  /** Written as a NotAction: everything but this is granted. */
  readonly notAction: boolean;
  /** Where it is written: `managed ReadReports`, `inline reports`, `group devs: managed X`. */
  readonly policy: string;
}

export interface GrantReading {
  readonly grants: readonly Grant[];
  /** Documents that could not be read, by policy: they are left out of the comparison, and said so. */
  readonly problems: readonly string[];
}

export function policyLabel(source: Pick<PolicySource, 'kind' | 'name' | 'group'>): string {
  const own = source.kind === 'attached' || source.kind === 'group-attached' ? `managed ${source.name}` : `inline ${source.name}`;
  return source.group === undefined ? own : `group ${source.group}: ${own}`;
}

/** IAM returns documents URL-encoded; moto and some tools return them as they are. */
export function decodePolicyDocument(text: string): unknown {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : decodeURIComponent(trimmed);
  return JSON.parse(json) as unknown;
}

export function grantsOf(sources: readonly PolicySource[]): GrantReading {
  const grants: Grant[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    const policy = policyLabel(source);
    let document: unknown;
    try {
      document = decodePolicyDocument(source.document);
    } catch {
      problems.push(`${policy}: the document is not JSON; its grants were not compared`);
      continue;
    }
    const statements = isObject(document) ? document.Statement : undefined;
    const list = Array.isArray(statements) ? (statements as unknown[]) : isObject(statements) ? [statements] : undefined;
    if (list === undefined) {
      problems.push(`${policy}: the document has no Statement; its grants were not compared`);
      continue;
    }
    for (const statement of list) {
      if (!isObject(statement)) continue;
      const effect = statement.Effect === 'Deny' ? 'Deny' : statement.Effect === 'Allow' ? 'Allow' : undefined;
      if (effect === undefined) continue;
      for (const action of strings(statement.Action)) grants.push({ action, effect, notAction: false, policy });
      for (const action of strings(statement.NotAction)) grants.push({ action, effect, notAction: true, policy });
    }
  }
  return { grants, problems };
}

export interface GrantComparison {
  /**
   * Literal actions an Allow grants that no call used, with the policies granting them; `mayBeUnseen`
   * says why the sources read could have missed its calls (a data event, when no trail was read).
   */
  readonly unused: readonly { readonly action: string; readonly policies: readonly string[]; readonly mayBeUnseen?: string }[];
  /** Literal actions granted and used. */
  readonly used: readonly { readonly action: string; readonly policies: readonly string[] }[];
  /** Wildcard Allow grants, as written, with the used actions they cover (none: the whole grant went unused). */
  readonly wildcards: readonly { readonly pattern: string; readonly policies: readonly string[]; readonly covers: readonly string[] }[];
  /** NotAction Allow grants: everything but these actions, which cannot be listed. */
  readonly notActions: readonly { readonly policy: string; readonly except: readonly string[] }[];
  /** Deny statements' actions, listed, not evaluated. */
  readonly denies: readonly { readonly action: string; readonly policies: readonly string[] }[];
  /**
   * Used actions no Allow statement of the user names or covers: a resource policy allowed them, or
   * the grant was in a document not read. Actions that need no permission (sts:GetCallerIdentity) are not listed.
   */
  readonly notGranted: readonly string[];
}

export interface CompareOptions {
  /** Why the calls of an action could be missing from what was read, or undefined when they would show. */
  readonly unseen?: (action: string) => string | undefined;
}

const isWildcard = (action: string): boolean => /[*?]/.test(action);

export function compareGrants(grants: readonly Grant[], used: readonly string[], options: CompareOptions = {}): GrantComparison {
  const allows = grants.filter((grant) => grant.effect === 'Allow');
  const literal = groupBy(allows.filter((grant) => !grant.notAction && !isWildcard(grant.action)));
  const wild = groupBy(allows.filter((grant) => !grant.notAction && isWildcard(grant.action)));
  const notActionPolicies = new Map<string, string[]>();
  for (const grant of allows.filter((candidate) => candidate.notAction))
    notActionPolicies.set(grant.policy, [...(notActionPolicies.get(grant.policy) ?? []), grant.action]);
  const isUsed = (action: string): boolean => used.some((name) => name.toLowerCase() === action.toLowerCase());
  const covered = (action: string): boolean =>
    [...literal.keys()].some((granted) => granted.toLowerCase() === action.toLowerCase()) ||
    [...wild.keys()].some((pattern) => actionMatches(pattern, action)) ||
    [...notActionPolicies.values()].some((except) => !except.some((pattern) => actionMatches(pattern, action)));
  const entries = (map: Map<string, Set<string>>): { action: string; policies: string[] }[] =>
    [...map.entries()]
      .map(([action, policies]) => ({ action, policies: [...policies].sort() }))
      .sort((a, b) => a.action.localeCompare(b.action));
  return {
    unused: entries(literal)
      .filter((entry) => !isUsed(entry.action))
      .map((entry) => {
        const mayBeUnseen = options.unseen?.(entry.action);
        return mayBeUnseen === undefined ? entry : { ...entry, mayBeUnseen };
      }),
    used: entries(literal).filter((entry) => isUsed(entry.action)),
    wildcards: entries(wild).map((entry) => ({
      pattern: entry.action,
      policies: entry.policies,
      covers: used.filter((action) => actionMatches(entry.action, action)).sort(),
    })),
    notActions: [...notActionPolicies.entries()].map(([policy, except]) => ({ policy, except: [...except].sort() })),
    denies: entries(groupBy(grants.filter((grant) => grant.effect === 'Deny'))),
    notGranted: used.filter((action) => !needsNoPermission(action) && !covered(action)).sort(),
  };
}

/** Grants by action as written (a literal compared case-insensitively, kept in its first spelling). */
function groupBy(grants: readonly Grant[]): Map<string, Set<string>> {
  const byAction = new Map<string, Set<string>>();
  const spelling = new Map<string, string>();
  for (const grant of grants) {
    const lower = grant.action.toLowerCase();
    const name = spelling.get(lower) ?? grant.action;
    spelling.set(lower, name);
    byAction.set(name, (byAction.get(name) ?? new Set<string>()).add(grant.policy));
  }
  return byAction;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
