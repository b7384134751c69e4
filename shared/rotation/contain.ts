import {
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  paginateListAttachedUserPolicies,
  paginateListUserPolicies,
  type IAMClient,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import { AccessKeyNotFoundError } from '../base/errors.ts';
import { planCompromiseRoom } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { resolveUserSettings } from '../config/user-settings.ts';
import { exemptionOf, refuseOutOfScope, refuseProtected } from '../config/exemptions.ts';
import { keyLastUsed, listUserKeys, readUserFacts, setKeyStatus } from '../aws/iam.ts';
import { readSecret } from './secret.ts';
import { RotationInput, type Contained } from './workflow-state.ts';
import { anySourceRead, gapsOf, type KeyCall } from '../aws/key-calls.ts';
import { errorName } from '../base/errors.ts';
import { isSessionKeyId } from '../base/access-key-id.ts';
import {
  PROPAGATION_MARGIN_MS,
  REVOKE_OLDER_SESSIONS_POLICY,
  revokeCommand,
  revokeOlderSessionsPolicy,
  summarizeIncident,
  unreadIncident,
  type AssumedRole,
  type Incident,
  type SessionCall,
} from './incident.ts';

/**
 * Contain: the first Task of the compromise path, before any new key exists. It cuts the leaked key
 * (Inactive) and the user's own sessions issued with it (GetSessionToken, GetFederationToken: an
 * inline deny-all policy on the user conditioned on aws:TokenIssueTime). That deny does NOT reach
 * role sessions opened with the key: a role session's permissions are the role's ("the policies that
 * are attached to the credentials that made the original call to AssumeRole are not evaluated", IAM
 * user guide, "Permissions for temporary security credentials"), so they keep working until they
 * expire (up to 12 hours). Contain therefore reads what the key did from CloudTrail and, for each
 * role it assumed in this account, revokes the role's older sessions as the IAM console does (when
 * COMPROMISE_REVOKE_ROLE_SESSIONS allows it), or names the command. CloudTrail being unreadable never
 * stops containment: the notice then says what could not be checked. When the trigger names temporary
 * credentials of the user (an ASIA key id) there is no key to cut: only the sessions are denied
 * (containSessions).
 */

export const DENY_POLICY_PREFIX = 'iam-key-rotator-deny-sessions-before-';
/** AWS attaches these managed policies to a user whose key it found in public; they are never detached. */
export const AWS_QUARANTINE_PREFIX = 'AWSCompromisedKeyQuarantine';

export const ContainInput = z.object({
  request: RotationInput,
  /** `$$.Execution.StartTime`: a deny policy at or after it was attached by this execution (a retry reuses it). */
  executionStartedAt: z.string().check(z.refine((text: string) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 timestamp')),
});
export type ContainInput = z.output<typeof ContainInput>;

/** `20260601T120000Z`: policy names may only hold `\w+=,.@-`. */
export function denyPolicyName(deniedBefore: Date): string {
  return `${DENY_POLICY_PREFIX}${deniedBefore
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '')}`;
}

/** The instant a rotator deny policy's name encodes, or undefined for any other policy name. */
export function deniedBeforeOf(policyName: string): Date | undefined {
  const match = /^iam-key-rotator-deny-sessions-before-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(policyName);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  return new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
}

/**
 * Deny everything to credentials issued before `deniedBefore`. Long-term access keys carry no
 * aws:TokenIssueTime, so the condition does not match them: only temporary sessions (GetSessionToken,
 * AssumeRole chained from the user, federation tokens) created before containment are cut.
 */
export function denySessionsPolicy(deniedBefore: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenySessionsIssuedBeforeContainment',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': deniedBefore.toISOString().replace(/\.\d{3}Z$/, 'Z') } },
      },
    ],
  });
}

/** Whole seconds, rounded up: a session issued earlier in this second is denied too. */
function ceilToSecond(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000);
}

async function inlinePolicyNames(iam: IAMClient, userName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListUserPolicies({ client: iam }, { UserName: userName })) names.push(...(page.PolicyNames ?? []));
  return names;
}

async function quarantinePolicies(iam: IAMClient, userName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListAttachedUserPolicies({ client: iam }, { UserName: userName })) {
    for (const policy of page.AttachedPolicies ?? [])
      if (policy.PolicyName?.startsWith(AWS_QUARANTINE_PREFIX)) names.push(policy.PolicyName);
  }
  return names;
}

export async function contain(input: ContainInput, deps: RotationDeps): Promise<Contained> {
  const { userName, accessKeyId } = input.request;
  // The reads at once: the only calls before the key is cut. The user's path decides protection.
  const [keys, policies, facts] = await Promise.all([
    listUserKeys(deps.iam, userName),
    inlinePolicyNames(deps.iam, userName),
    readUserFacts(deps.iam, userName, deps.config.exemptGroups.length > 0),
  ]);
  // A protected user (break-glass, the deployer) is never acted on, a leak included: its roles deny it too.
  refuseProtected(deps.config, userName, facts.path, 'containment');
  refuseOutOfScope(deps.config, userName, facts.path, facts.tags, 'containment');
  if (isSessionKeyId(accessKeyId)) return containSessions(input, deps, { keys, policies, facts });
  const key = keys.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (!key) {
    throw new AccessKeyNotFoundError(
      `Access key ${accessKeyId} is not a key of IAM user ${userName}, so nothing was contained or changed. If the key was already deleted, ` +
        `it can no longer be used; otherwise find its owner with \`aws iam get-access-key-last-used --access-key-id ${accessKeyId}\` and contain it there.`,
    );
  }

  // First cut the key, then deny sessions issued up to now plus PROPAGATION_MARGIN_MS: once the
  // deactivation has reached every endpoint no session can be made with the key, and the margin
  // covers the ones made while it travelled.
  if (key.status === 'Active') await setKeyStatus(deps.iam, userName, accessKeyId, 'Inactive');
  const { policyName, deniedBefore } = await denyOlderSessions(deps, userName, policies, input.executionStartedAt);
  const containedAt = deps.clock().toISOString();
  deps.logger.warn('leaked key contained', { userName, accessKeyId, keyWasActive: key.status === 'Active', policyName });

  // After containment: what a replacement would need, for the notice and the route.
  const other = keys.find((candidate) => candidate.accessKeyId !== accessKeyId);
  const { settings } = resolveUserSettings(userName, facts.tags, deps.config);
  const secretOf = async () =>
    readSecret(deps.secretsManager, settings.secretName, [accessKeyId, ...keys.map((candidate) => candidate.accessKeyId)]);
  const [secret, quarantine, otherUsed, incident] = await Promise.all([
    secretOf(),
    quarantinePolicies(deps.iam, userName),
    other ? keyLastUsed(deps.iam, other.accessKeyId, 'unused') : Promise.resolve(undefined),
    incidentOf(deps, {
      accessKeyId,
      deniedBefore,
      accountId: deps.memberAccountId ?? facts.arn?.split(':')[4],
      otherActiveKey: other?.status === 'Active' ? other : undefined,
    }),
  ]);
  const plan = planCompromiseRoom(
    keys.map((candidate) => ({
      accessKeyId: candidate.accessKeyId,
      status: candidate.accessKeyId === accessKeyId ? 'Inactive' : candidate.status,
      everUsed: candidate.accessKeyId === accessKeyId || otherUsed !== undefined,
    })),
    accessKeyId,
    secret.versions,
    deps.config.compromisedKeyAction,
  );
  return {
    containedAt,
    keyWasActive: key.status === 'Active',
    denyPolicyName: policyName,
    deniedBefore: deniedBefore.toISOString(),
    awsQuarantinePolicies: quarantine,
    incident,
    otherKeyId: other?.accessKeyId ?? null,
    plan: plan.plan,
    replacement: plan.plan === 'skip' ? 'skip' : 'create',
    compromisedKeyAction: deps.config.compromisedKeyAction,
    detail: plan.why,
    // Containment is the point of this path, exempt or not; the notice says the user was exempt.
    exemption: exemptionOf(deps.config, facts, settings, deps.clock()) ?? null,
    session: null,
  };
}

/**
 * The inline deny of every session of the user issued before now plus PROPAGATION_MARGIN_MS; a retry
 * of this step (a policy attached since the execution started) reuses the one it attached.
 */
async function denyOlderSessions(
  deps: RotationDeps,
  userName: string,
  policies: readonly string[],
  executionStartedAt: string,
): Promise<{ readonly policyName: string; readonly deniedBefore: Date }> {
  const startedAt = Date.parse(executionStartedAt);
  const ours = policies
    .map((name) => ({ name, before: deniedBeforeOf(name) }))
    .find((policy) => policy.before !== undefined && policy.before.getTime() >= startedAt - 1000);
  if (ours?.before) return { policyName: ours.name, deniedBefore: ours.before };
  const deniedBefore = ceilToSecond(new Date(deps.clock().getTime() + PROPAGATION_MARGIN_MS));
  const policyName = denyPolicyName(deniedBefore);
  await deps.iam.send(
    new PutUserPolicyCommand({ UserName: userName, PolicyName: policyName, PolicyDocument: denySessionsPolicy(deniedBefore) }),
  );
  return { policyName, deniedBefore };
}

/** GetSessionToken and GetFederationToken sessions last at most 36 hours: a live one was opened within them. */
export const SESSION_MAX_MS = 36 * 60 * 60_000;
/**
 * API calls per user key when looking for the call that opened a session: with the incident's own read
 * and the followed role sessions, Contain stays within about 30 s of LookupEvents (2 a second) per region.
 */
const SESSION_ISSUER_READ_CALLS = 10;

/**
 * A finding about temporary credentials of the user (GuardDuty names the session's ASIA key): there is
 * no key to cut or replace, so only the user's sessions issued before now are denied (the same inline
 * deny as for a leaked key; the user's long-term keys carry no aws:TokenIssueTime and keep working).
 * CloudTrail then tells what the session did (roles it assumed are settled as for a leaked key) and
 * which of the user's keys opened it, for the notice: if that key leaked too, a person contains it.
 */
async function containSessions(
  input: ContainInput,
  deps: RotationDeps,
  read: {
    readonly keys: readonly { readonly accessKeyId: string }[];
    readonly policies: readonly string[];
    readonly facts: Awaited<ReturnType<typeof readUserFacts>>;
  },
): Promise<Contained> {
  const { userName, accessKeyId } = input.request;
  const { policyName, deniedBefore } = await denyOlderSessions(deps, userName, read.policies, input.executionStartedAt);
  const containedAt = deps.clock().toISOString();
  deps.logger.warn('sessions of a user contained', { userName, sessionAccessKeyId: accessKeyId, policyName });
  const { settings } = resolveUserSettings(userName, read.facts.tags, deps.config);
  const [quarantine, incident, session] = await Promise.all([
    quarantinePolicies(deps.iam, userName),
    incidentOf(deps, {
      accessKeyId,
      deniedBefore,
      accountId: deps.memberAccountId ?? read.facts.arn?.split(':')[4],
      otherActiveKey: undefined,
    }),
    sessionIssuer(
      deps,
      accessKeyId,
      read.keys.map((key) => key.accessKeyId),
    ),
  ]);
  return {
    containedAt,
    keyWasActive: false,
    denyPolicyName: policyName,
    deniedBefore: deniedBefore.toISOString(),
    awsQuarantinePolicies: quarantine,
    incident,
    otherKeyId: null,
    plan: 'skip',
    replacement: 'skip',
    compromisedKeyAction: deps.config.compromisedKeyAction,
    detail: 'none: the finding names temporary credentials, not a key; no key was deactivated',
    exemption: exemptionOf(deps.config, read.facts, settings, deps.clock()) ?? null,
    session,
  };
}

/** Which of the user's keys opened the session `sessionKeyId`, from the GetSessionToken/GetFederationToken records of the last SESSION_MAX_MS. */
async function sessionIssuer(
  deps: RotationDeps,
  sessionKeyId: string,
  userKeys: readonly string[],
): Promise<{ readonly issuedBy: string | null; readonly detail: string }> {
  const unknown = (why: string) => ({ issuedBy: null, detail: `Which key opened it is not known: ${why}` });
  if (!deps.readKeyCalls) return unknown('no CloudTrail source is configured (CLOUDTRAIL_LOG_GROUP, event history)');
  const readCalls = deps.readKeyCalls;
  const to = deps.clock();
  const from = new Date(to.getTime() - SESSION_MAX_MS);
  try {
    const reads = await Promise.all(
      userKeys.map((key) => readCalls({ accessKeyId: key, from, to, maxApiCalls: SESSION_ISSUER_READ_CALLS })),
    );
    for (const [index, read] of reads.entries()) {
      const opened = read.calls.find((call) => call.sessionAccessKeyId === sessionKeyId && call.errorCode === undefined);
      if (opened) {
        const key = userKeys[index] ?? opened.accessKeyId;
        return {
          issuedBy: key,
          detail: `It was opened with the user's access key ${key} (${opened.eventName} at ${opened.at.toISOString()} from ${opened.sourceIp}).`,
        };
      }
    }
    // What the evidence could not cover is in the incident's gaps; here only whether it could be read at all.
    if (reads.length === 0) return unknown('the user has no access key to have opened it: a console sign-in, most likely.');
    if (!reads.some(anySourceRead)) return unknown('CloudTrail could not be read (the gaps are listed below).');
    return unknown("no key of the user opened it in CloudTrail's records of the last 36 hours: a console sign-in, or a record not read.");
  } catch (error) {
    deps.logger.warn('the key that opened a session could not be looked up; the notice says so', { errorName: errorName(error) });
    return unknown(`CloudTrail could not be read (${errorName(error)}).`);
  }
}

/**
 * What the leaked key did over COMPROMISE_LOOKBACK, with each role it assumed settled: revoked, or
 * the command to do it. Never throws: without CloudTrail the incident says it could not be read.
 */
async function incidentOf(
  deps: RotationDeps,
  at: {
    readonly accessKeyId: string;
    readonly deniedBefore: Date;
    readonly accountId: string | undefined;
    readonly otherActiveKey: { readonly accessKeyId: string; readonly createdAt: Date } | undefined;
  },
): Promise<Incident> {
  const to = deps.clock();
  const from = new Date(to.getTime() - deps.config.compromiseLookbackMs);
  if (!deps.readKeyCalls) {
    const why = deps.memberAccountId
      ? `no CloudTrail reader for account ${deps.memberAccountId}`
      : 'no CloudTrail source is configured (CLOUDTRAIL_LOG_GROUP, event history)';
    return unreadIncident(from, to, why);
  }
  let summary: Incident;
  try {
    const read = await deps.readKeyCalls({ accessKeyId: at.accessKeyId, from, to });
    if (!anySourceRead(read)) return unreadIncident(from, to, gapsOf(read).join('; ') || 'no CloudTrail source could be read');
    const followed = await followRoleSessions(deps.readKeyCalls, read.calls, to);
    summary = summarizeIncident({
      calls: read.calls,
      chained: followed.calls,
      from,
      to,
      gaps: [...gapsOf(read), ...followed.gaps],
      otherActiveKey: at.otherActiveKey,
    });
  } catch (error) {
    // The key is already cut: a CloudTrail failure only narrows what the notice can tell.
    deps.logger.warn('the leaked key’s calls could not be read; the notice says so', { errorName: errorName(error) });
    return unreadIncident(from, to, `CloudTrail could not be read (${errorName(error)})`);
  }
  const roles: AssumedRole[] = [];
  for (const role of summary.roles) roles.push(await settleRole(deps, role, at.accountId, at.deniedBefore));
  return { ...summary, roles };
}

/** Role sessions followed per containment, and the API calls each may spend: Contain has a minute, and each is a few hours of calls. */
export const MAX_FOLLOWED_SESSIONS = 5;
const SESSION_READ_CALLS = 4;
/** A role session lasts at most 12 hours (MaxSessionDuration); chained, at most one. */
const ROLE_SESSION_MAX_MS = 12 * 60 * 60_000;

/**
 * The roles assumed from the role sessions the key opened (role chaining), as far as CloudTrail shows:
 * each AssumeRole record names its session's ASIA key id, whose own calls are then read over that
 * session's life, two levels deep and at most MAX_FOLLOWED_SESSIONS sessions in all.
 */
async function followRoleSessions(
  readCalls: NonNullable<RotationDeps['readKeyCalls']>,
  calls: readonly KeyCall[],
  to: Date,
): Promise<{ readonly calls: SessionCall[]; readonly gaps: string[] }> {
  const opened = (made: readonly KeyCall[], depth: number) =>
    made
      .filter((call) => call.eventName === 'AssumeRole' && call.errorCode === undefined && call.sessionAccessKeyId && call.target)
      .map((call) => ({ call, depth }));
  const queue = opened(calls, 1);
  const found: SessionCall[] = [];
  const seen = new Set<string>();
  let followed = 0;
  while (queue.length > 0 && followed < MAX_FOLLOWED_SESSIONS) {
    const next = queue.shift();
    const session = next?.call.sessionAccessKeyId;
    if (!next || session === undefined || seen.has(session)) continue;
    seen.add(session);
    followed += 1;
    const until = new Date(Math.min(to.getTime(), next.call.at.getTime() + ROLE_SESSION_MAX_MS));
    const read = await readCalls({ accessKeyId: session, from: next.call.at, to: until, maxApiCalls: SESSION_READ_CALLS });
    const via = next.call.target ?? '';
    for (const call of read.calls) if (call.eventName === 'AssumeRole') found.push({ call, via });
    if (next.depth < 2) queue.push(...opened(read.calls, next.depth + 1));
  }
  const left = queue.filter((item) => item.call.sessionAccessKeyId !== undefined && !seen.has(item.call.sessionAccessKeyId)).length;
  return {
    calls: found,
    gaps:
      left > 0
        ? [`${left} more role session${left === 1 ? '' : 's'} the key opened were not followed for the roles they assumed in turn`]
        : [],
  };
}

function revokes(deps: RotationDeps, roleName: string): boolean {
  const names = deps.config.compromiseRevokeRoleSessions;
  return names.includes('all') || names.includes(roleName);
}

/** One role the key assumed: revoked when it is in this account and the setting names it; else the command, and why. */
async function settleRole(deps: RotationDeps, role: AssumedRole, accountId: string | undefined, before: Date): Promise<AssumedRole> {
  const command = revokeCommand(role.roleName, before);
  if (accountId === undefined || role.accountId !== accountId) return { ...role, outcome: 'other-account', command };
  // The member role (stack/member-role.yml) writes users' keys and policies, never roles.
  if (deps.memberAccountId !== undefined) return { ...role, outcome: 'member-account', command };
  if (!revokes(deps, role.roleName)) return { ...role, outcome: 'not-enabled', command };
  try {
    // Idempotent: a retry writes the same document (deniedBefore is the user policy's, reused on retry).
    await deps.iam.send(
      new PutRolePolicyCommand({
        RoleName: role.roleName,
        PolicyName: REVOKE_OLDER_SESSIONS_POLICY,
        PolicyDocument: revokeOlderSessionsPolicy(before),
      }),
    );
    deps.logger.warn('older sessions of a role the leaked key assumed revoked', { roleName: role.roleName, before: before.toISOString() });
    return { ...role, outcome: 'revoked' };
  } catch (error) {
    deps.logger.warn('the older sessions of a role could not be revoked; the notice gives the command', {
      roleName: role.roleName,
      errorName: errorName(error),
    });
    return { ...role, outcome: 'failed', command, error: errorName(error) };
  }
}
