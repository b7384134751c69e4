import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import type { KeyCall } from '../aws/key-calls.ts';

/**
 * What a leaked key did, from CloudTrail, for the critical notice: the roles it assumed (whose
 * sessions the user's deny does not reach), the writes it made (how an attacker stays in), the keys
 * it created. Pure: containment reads the calls and acts; this only sorts them. Every list is
 * bounded so the Contained state stays far below Step Functions' 256 KB.
 */

/**
 * How far past the deactivation the denies reach. IAM is eventually consistent: a change is visible
 * everywhere "after a brief delay" (IAM user guide, "Changes that I make are not always immediately
 * visible"), typically seconds, so an STS endpoint may still accept the deactivated key for a moment
 * and mint a session with a later TokenIssueTime. Two minutes is well over that delay; the cost is that
 * a legitimate session issued in those two minutes (of the user, or of a revoked role) is denied too
 * and must be requested again, which the notice says.
 */
export const PROPAGATION_MARGIN_MS = 2 * 60_000;

export const MAX_ROLES = 20;
export const MAX_WRITES = 25;
export const MAX_CREATED_KEYS = 10;
export const MAX_GAPS = 10;
const MAX_AGENT = 200;
const MAX_IPS = 3;

/** The name the IAM console gives the deny its "Revoke active sessions" attaches to a role. */
export const REVOKE_OLDER_SESSIONS_POLICY = 'AWSRevokeOlderSessions';

/**
 * The deny the IAM console attaches to revoke a role's sessions ("Revoking IAM role temporary security
 * credentials", IAM user guide): every action on every resource, for credentials whose
 * aws:TokenIssueTime is before `before`. A role's own sessions carry a TokenIssueTime, so all of them
 * issued earlier are cut, the legitimate ones too (they get fresh credentials by assuming it again).
 */
export function revokeOlderSessionsPolicy(before: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': before.toISOString().replace(/\.\d{3}Z$/, 'Z') } },
      },
    ],
  });
}

/** The command a person runs to revoke a role's older sessions when the rotator may not (or cannot: another account). */
export function revokeCommand(roleName: string, before: Date): string {
  return `aws iam put-role-policy --role-name ${roleName} --policy-name ${REVOKE_OLDER_SESSIONS_POLICY} --policy-document '${revokeOlderSessionsPolicy(before)}'`;
}

/**
 * What became of one role's sessions: `revoked` (the deny is on the role), `not-enabled`
 * (COMPROMISE_REVOKE_ROLE_SESSIONS leaves it to a person: `command`), `other-account` (the rotator
 * does not write there: `command`, run in that account), `member-account` (the key is in a member
 * account, whose member role grants no role writes: `command`, run there), `failed` (the write was
 * refused: `command`).
 */
export const ROLE_SESSION_OUTCOMES = ['revoked', 'not-enabled', 'other-account', 'member-account', 'failed'] as const;

export const AssumedRole = z.object({
  roleArn: z.string(),
  accountId: z.string(),
  roleName: z.string(),
  firstAt: z.string(),
  lastAt: z.string(),
  times: z.number(),
  sourceIps: z.array(z.string()),
  outcome: z.enum(ROLE_SESSION_OUTCOMES),
  /** Set unless revoked: what a person runs (in `accountId`). */
  command: z.optional(z.string()),
  /** Why a write failed: the SDK error's name only. */
  error: z.optional(z.string()),
  /** Set when it was assumed from a session of another role the key opened (role chaining): that role's ARN. */
  via: z.optional(z.string()),
});
export type AssumedRole = z.output<typeof AssumedRole>;

export const KeyWrite = z.object({
  at: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  target: z.optional(z.string()),
  /** The role the write handed to a service (KeyCall.passedRole): what runs with it outlives the key. */
  passedRole: z.optional(z.string()),
  sourceIp: z.string(),
  userAgent: z.string(),
  errorCode: z.optional(z.string()),
});
export type KeyWrite = z.output<typeof KeyWrite>;

export const CreatedKey = z.object({ accessKeyId: z.string(), userName: z.optional(z.string()), at: z.string() });

export const Incident = z.object({
  /** False when no CloudTrail source could be read (or none is configured): then the lists are empty and `gaps` says why. */
  read: z.boolean(),
  from: z.string(),
  to: z.string(),
  calls: z.number(),
  /** The first call listed below (a write or an AssumeRole): the earliest sign of an attacker CloudTrail shows. */
  firstSuspiciousAt: z.nullable(z.string()),
  roles: z.array(AssumedRole),
  moreRoles: z.number(),
  writes: z.array(KeyWrite),
  moreWrites: z.number(),
  /** Keys the leaked key created (CreateAccessKey): each must be contained too; the rotator never rotates one silently. */
  createdKeys: z.array(CreatedKey),
  /** The user's other Active key when it was created by the leaked key or after its first suspicious use. */
  otherKeyFlag: z.nullable(z.string()),
  gaps: z.array(z.string()),
});
export type Incident = z.output<typeof Incident>;

/** `arn:aws:iam::123456789012:role/path/name` → account and name; undefined for anything else. */
export function parseRoleArn(arn: string): { readonly accountId: string; readonly roleName: string } | undefined {
  const match = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/.exec(arn);
  const [, accountId, roleName] = match ?? [];
  return accountId !== undefined && roleName !== undefined ? { accountId, roleName } : undefined;
}

/** Calls that open a session: what the user's deny reaches (GetSessionToken, GetFederationToken) and what it does not (AssumeRole). */
const SESSION_CALLS = new Set(['AssumeRole', 'GetSessionToken', 'GetFederationToken']);

/** How an attacker keeps access after the key is gone, listed first: new principals, credentials, permissions, trust. */
const PERSISTENCE = new Set([
  'CreateUser',
  'CreateAccessKey',
  'CreateLoginProfile',
  'UpdateLoginProfile',
  'AttachUserPolicy',
  'PutUserPolicy',
  'AddUserToGroup',
  'CreateRole',
  'UpdateAssumeRolePolicy',
  'AttachRolePolicy',
  'PutRolePolicy',
  'AttachGroupPolicy',
  'PutGroupPolicy',
  'CreatePolicyVersion',
  'SetDefaultPolicyVersion',
  'CreateVirtualMFADevice',
  'EnableMFADevice',
  'CreateOpenIDConnectProvider',
  'CreateSAMLProvider',
  'UpdateAccessKey',
  'DeleteUserPolicy',
  'DetachUserPolicy',
  'CreateServiceSpecificCredential',
  'UploadSSHPublicKey',
]);

/** Reads by the verbs AWS uses for them; every other management call changed something. */
const READ = /^(Get|List|Describe|Head|Lookup|BatchGet|Query|Scan|Search|Filter|Select|Generate|Simulate|Decode|Preview|Validate|Check)/;

const isWrite = (call: KeyCall): boolean =>
  call.category === 'Management' && !SESSION_CALLS.has(call.eventName) && !READ.test(call.eventName);

/** A write that persists: a new principal, credential, permission or trust, or a role handed to something that runs. */
const persists = (call: KeyCall): boolean =>
  PERSISTENCE.has(call.eventName) || (call.passedRole !== undefined && call.errorCode === undefined);

const iso = (at: Date): string => at.toISOString();

/** A call made with a role session the leaked key opened (or one opened from it), and the role whose session it was. */
export interface SessionCall {
  readonly call: KeyCall;
  readonly via: string;
}

export interface IncidentInput {
  readonly calls: readonly KeyCall[];
  /** AssumeRole calls made with the role sessions the key opened, as far as they were followed (role chaining). */
  readonly chained?: readonly SessionCall[];
  readonly from: Date;
  readonly to: Date;
  readonly gaps: readonly string[];
  /** The user's other key, if Active, with its creation time. */
  readonly otherActiveKey: { readonly accessKeyId: string; readonly createdAt: Date } | undefined;
}

/** The summary before any role is acted on: every assumed role starts as `not-enabled`; containment settles each. */
export function summarizeIncident(input: IncidentInput): Incident {
  const calls = [...input.calls].sort((a, b) => a.at.getTime() - b.at.getTime());
  const assumed = new Map<string, { firstAt: Date; lastAt: Date; times: number; ips: Set<string>; via?: string }>();
  const direct = calls.map((call) => ({ call, via: undefined }));
  const chained = [...(input.chained ?? [])].sort((a, b) => a.call.at.getTime() - b.call.at.getTime());
  for (const { call, via } of [...direct, ...chained]) {
    if (call.eventName !== 'AssumeRole' || call.errorCode !== undefined || call.target === undefined) continue;
    const seen = assumed.get(call.target) ?? {
      firstAt: call.at,
      lastAt: call.at,
      times: 0,
      ips: new Set<string>(),
      ...(via ? { via } : {}),
    };
    if (call.at < seen.firstAt) seen.firstAt = call.at;
    if (call.at > seen.lastAt) seen.lastAt = call.at;
    seen.times += 1;
    seen.ips.add(call.sourceIp);
    assumed.set(call.target, seen);
  }
  const roles: AssumedRole[] = [];
  for (const [roleArn, seen] of assumed) {
    const parsed = parseRoleArn(roleArn);
    if (!parsed) continue;
    roles.push({
      roleArn,
      ...parsed,
      firstAt: iso(seen.firstAt),
      lastAt: iso(seen.lastAt),
      times: seen.times,
      sourceIps: [...seen.ips].slice(0, MAX_IPS),
      outcome: 'not-enabled',
      ...(seen.via === undefined ? {} : { via: seen.via }),
    });
  }
  const writes = calls.filter(isWrite);
  // Persistence first, each group in time order: a person reads the notice from the top.
  const ordered = [...writes.filter(persists), ...writes.filter((call) => !persists(call))];
  const created = calls.filter((call) => call.eventName === 'CreateAccessKey' && call.createdAccessKeyId !== undefined);
  const suspicious = calls.find((call) => isWrite(call) || (call.eventName === 'AssumeRole' && call.errorCode === undefined));
  return {
    read: true,
    from: iso(input.from),
    to: iso(input.to),
    calls: calls.length,
    firstSuspiciousAt: suspicious ? iso(suspicious.at) : null,
    roles: roles.slice(0, MAX_ROLES),
    moreRoles: Math.max(0, roles.length - MAX_ROLES),
    writes: ordered.slice(0, MAX_WRITES).map((call) => ({
      at: iso(call.at),
      eventSource: call.eventSource,
      eventName: call.eventName,
      ...(call.target === undefined ? {} : { target: call.target }),
      ...(call.passedRole === undefined ? {} : { passedRole: call.passedRole }),
      sourceIp: call.sourceIp,
      userAgent: call.userAgent.slice(0, MAX_AGENT),
      ...(call.errorCode === undefined ? {} : { errorCode: call.errorCode }),
    })),
    moreWrites: Math.max(0, ordered.length - MAX_WRITES),
    createdKeys: created.slice(0, MAX_CREATED_KEYS).map((call) => ({
      accessKeyId: call.createdAccessKeyId ?? '',
      ...(call.target === undefined ? {} : { userName: call.target }),
      at: iso(call.at),
    })),
    otherKeyFlag: otherKeyFlag(input.otherActiveKey, created, suspicious),
    gaps: [...input.gaps].slice(0, MAX_GAPS),
  };
}

function otherKeyFlag(other: IncidentInput['otherActiveKey'], created: readonly KeyCall[], suspicious: KeyCall | undefined): string | null {
  if (!other) return null;
  if (created.some((call) => call.createdAccessKeyId === other.accessKeyId))
    return `the user's other Active key ${other.accessKeyId} was created with the leaked key: contain it too (iam-key-rotator rotate <user> --compromised --key ${other.accessKeyId}); the rotator does not rotate it on its own`;
  if (suspicious && other.createdAt.getTime() > suspicious.at.getTime())
    return `the user's other Active key ${other.accessKeyId} was created at ${iso(other.createdAt)}, after the leaked key's first suspicious use (${iso(suspicious.at)}): check who created it before trusting it`;
  return null;
}

/** When CloudTrail could not be read: containment goes on, and the notice says what it could not check. */
export function unreadIncident(from: Date, to: Date, why: string): Incident {
  return {
    read: false,
    from: iso(from),
    to: iso(to),
    calls: 0,
    firstSuspiciousAt: null,
    roles: [],
    moreRoles: 0,
    writes: [],
    moreWrites: 0,
    createdKeys: [],
    otherKeyFlag: null,
    gaps: [why],
  };
}

/** What a write that handed a role to a service means for the person reading the notice. */
function passes(write: KeyWrite): string {
  if (write.passedRole === undefined) return '';
  if (write.errorCode !== undefined) return `, passing role ${write.passedRole}`;
  const service = write.eventSource.replace(/\.amazonaws\.com$/, '');
  return `, passing role ${write.passedRole} to ${service}: what runs with it keeps that role's permissions after the key is cut; remove it`;
}

/** The incident as lines of the critical notice. */
export function incidentLines(incident: Incident, deniedBefore: string): string[] {
  if (!incident.read) {
    return [
      `What the leaked key did could not be read from CloudTrail (${incident.gaps.join('; ')}): check the roles it assumed and the writes it made yourself; sessions of roles it assumed are NOT cut by the user's deny.`,
    ];
  }
  const lines = [`From CloudTrail, ${incident.from} to ${incident.to} (${incident.calls} calls of the leaked key read):`];
  if (incident.roles.length === 0) lines.push('- Roles assumed with the leaked key: none seen.');
  for (const role of incident.roles) {
    const seen = `role ${role.roleArn} assumed ${role.times} time(s)${role.via ? ` from a session of role ${role.via}` : ''}, last ${role.lastAt}, from ${role.sourceIps.join(', ')}`;
    if (role.outcome === 'revoked')
      lines.push(`- ${seen}: its sessions issued before ${deniedBefore} are revoked (${REVOKE_OLDER_SESSIONS_POLICY} on the role).`);
    else {
      const why =
        role.outcome === 'other-account'
          ? `it is in account ${role.accountId}, where the rotator does not act; run there`
          : role.outcome === 'member-account'
            ? `the member role of account ${role.accountId} grants no role writes; run there`
            : role.outcome === 'failed'
              ? `revoking failed (${role.error ?? 'error'}); run`
              : 'COMPROMISE_REVOKE_ROLE_SESSIONS does not name it; to revoke, run';
      lines.push(`- ${seen}: its sessions still work for up to 12 hours; ${why}: ${role.command ?? ''}`);
    }
  }
  if (incident.moreRoles > 0) lines.push(`- and ${incident.moreRoles} more roles (see CloudTrail).`);
  for (const key of incident.createdKeys)
    lines.push(
      `- CONTAIN TOO: access key ${key.accessKeyId}${key.userName ? ` of ${key.userName}` : ''} was created with the leaked key at ${key.at}: iam-key-rotator rotate ${key.userName ?? '<user>'} --compromised --key ${key.accessKeyId}.`,
    );
  if (incident.otherKeyFlag) lines.push(`- FLAGGED: ${incident.otherKeyFlag}.`);
  if (incident.writes.length === 0) lines.push('- Writes made with the leaked key: none seen.');
  else lines.push('- Writes made with the leaked key:');
  for (const write of incident.writes)
    lines.push(
      `  - ${write.at} ${write.eventName}${write.target ? ` ${write.target}` : ''}${passes(write)}${write.errorCode ? ` (refused: ${write.errorCode})` : ''} from ${write.sourceIp}, ${write.userAgent}`,
    );
  if (incident.moreWrites > 0) lines.push(`  - and ${incident.moreWrites} more writes (see CloudTrail).`);
  if (incident.gaps.length > 0) lines.push(`- Not covered by this evidence: ${incident.gaps.join('; ')}.`);
  return lines;
}
