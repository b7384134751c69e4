import { UserExemptError, UserOutOfScopeError, UserProtectedError } from '../base/errors.ts';
import type { Config } from './settings.ts';
import { OTHER_ROTATION_TAGS, type UserSettings } from './user-settings.ts';

/**
 * Who the rotator holds back, decided the same way on every path (scanner, start-rotation,
 * Prepare, Contain): an exemption is a policy the scanner alone used to honour, so a manual start
 * or a hand-written StartExecution walked past it. Two degrees:
 * - protected (PROTECTED_USERS, PROTECTED_PATHS): never acted on, on any path, compromise included;
 *   the stack's roles carry the same rule as an explicit Deny, so a bug here cannot act either.
 * - exempt (EXEMPT_PATHS, EXEMPT_GROUPS, rotation:exempt): never rotated on schedule, and a manual
 *   rotation only when the request says explicitly that it overrides the exemption; a compromise
 *   is still contained (containment is the point of that path) and its notices say so.
 */

/** Path entries match whole path segments: `/legacy` and `/legacy/` both cover `/legacy/x/` but not `/legacy-apps/`. */
function underPath(path: string, entry: string): string | undefined {
  const prefix = entry.endsWith('/') ? entry : `${entry}/`;
  return path.startsWith(prefix) ? prefix : undefined;
}

/** Exemption granted by the account config rather than by a tag. */
export function accountExemption(
  rules: Pick<Config, 'exemptPaths' | 'exemptGroups'>,
  path: string,
  groups: readonly string[],
): string | undefined {
  for (const entry of rules.exemptPaths) {
    const prefix = underPath(path, entry);
    if (prefix !== undefined) return `IAM path ${path} is under exempt path ${prefix} (EXEMPT_PATHS)`;
  }
  const group = groups.find((name) => rules.exemptGroups.includes(name));
  return group === undefined ? undefined : `member of exempt group ${group} (EXEMPT_GROUPS)`;
}

/** Why the user is protected, or undefined. Names compare exactly: IAM user names are unique case-insensitively, so compare so too. */
export function protection(rules: Pick<Config, 'protectedUsers' | 'protectedPaths'>, userName: string, path: string): string | undefined {
  const lower = userName.toLowerCase();
  if (rules.protectedUsers.some((name) => name.toLowerCase() === lower)) return `user ${userName} is listed in PROTECTED_USERS`;
  for (const entry of rules.protectedPaths) {
    const prefix = underPath(path, entry);
    if (prefix !== undefined) return `IAM path ${path} is under protected path ${prefix} (PROTECTED_PATHS)`;
  }
  return undefined;
}

export const MANAGED_TAG = OTHER_ROTATION_TAGS.managed;

/**
 * Why the user is outside the rotator's scope, or undefined: the IAM conditions of the stack's roles
 * (their user ARNs end in ROTATION_USER_PATH*; with ROTATION_USER_TAG_VALUE, writes need the tag
 * rotation:managed=<value>), decided here the same way so nothing outside is attempted.
 */
export function outOfScope(
  rules: Pick<Config, 'rotationUserPath' | 'rotationUserTagValue'>,
  path: string,
  tags: readonly { readonly Key?: string | undefined; readonly Value?: string | undefined }[],
): string | undefined {
  if (!path.startsWith(rules.rotationUserPath))
    return `IAM path ${path} is outside the rotator's path ${rules.rotationUserPath} (ROTATION_USER_PATH)`;
  if (rules.rotationUserTagValue === '') return undefined;
  const managed = tags.find((tag) => tag.Key === MANAGED_TAG)?.Value;
  return managed === rules.rotationUserTagValue
    ? undefined
    : `not tagged ${MANAGED_TAG}=${rules.rotationUserTagValue} (ROTATION_USER_TAG_VALUE)${managed === undefined ? '' : `; its tag says ${managed}`}`;
}

/** Refuses, naming why and the way in, to act on a user outside the rotator's scope. */
export function refuseOutOfScope(
  rules: Pick<Config, 'rotationUserPath' | 'rotationUserTagValue'>,
  userName: string,
  path: string,
  tags: readonly { readonly Key?: string | undefined; readonly Value?: string | undefined }[],
  what: string,
): void {
  const why = outOfScope(rules, path, tags);
  if (why === undefined) return;
  throw new UserOutOfScopeError(
    `IAM user ${userName} is outside the rotator's scope (${why}): the stack's roles may not change its keys, so nothing was tried or changed (${what} refused). ` +
      `To bring it in: ${rules.rotationUserTagValue === '' || !path.startsWith(rules.rotationUserPath) ? `widen the stack's rotationUserPath (now ${rules.rotationUserPath})` : `tag it ${MANAGED_TAG}=${rules.rotationUserTagValue}`}, or act on its keys by hand.`,
  );
}

/** The rotation:exempt tag's exemption if it holds at `now` (an expired one does not). */
export function tagExemption(settings: Pick<UserSettings, 'exemption'>, now: Date): string | undefined {
  const { exemption } = settings;
  if (exemption === undefined) return undefined;
  if (exemption.until !== undefined && exemption.until.getTime() < now.getTime()) return undefined;
  const until = exemption.until === undefined ? '' : ` until ${exemption.until.toISOString().slice(0, 10)}`;
  return `tagged rotation:exempt${until} (${exemption.reason})`;
}

/** Why the user is exempt, by account config first (it outlasts any tag), or undefined. */
export function exemptionOf(
  config: Pick<Config, 'exemptPaths' | 'exemptGroups'>,
  user: { readonly path: string; readonly groups: readonly string[] },
  settings: Pick<UserSettings, 'exemption'>,
  now: Date,
): string | undefined {
  return accountExemption(config, user.path, user.groups) ?? tagExemption(settings, now);
}

/** Refuses, with a typed error that names why and the way out, to act on a protected user. */
export function refuseProtected(
  rules: Pick<Config, 'protectedUsers' | 'protectedPaths'>,
  userName: string,
  path: string,
  what: string,
): void {
  const why = protection(rules, userName, path);
  if (why === undefined) return;
  throw new UserProtectedError(
    `IAM user ${userName} is protected (${why}): the rotator never acts on it, on any path, a compromise included, and its roles deny it. ` +
      `Nothing was changed (${what} refused). Act on its keys by hand (\`aws iam update-access-key --user-name ${userName} --access-key-id <key> --status Inactive\`), ` +
      `or, if it should be rotated after all, take it out of PROTECTED_USERS / PROTECTED_PATHS and deploy again.`,
  );
}

/** The text a person gives to rotate an exempt user by hand: the why, recorded in the execution input and the notices. */
export const EXEMPTION_OVERRIDE_FLAG = '--override-exemption';

/** Refuses a manual or scheduled rotation of an exempt user unless the request overrides the exemption explicitly. */
export function refuseExempt(userName: string, exemption: string | undefined, override: string | undefined, kind: string): void {
  if (exemption === undefined || kind === 'compromise' || override !== undefined) return;
  const command = kind === 'retire' ? 'retire' : 'rotate';
  const what = kind === 'retire' ? 'retirement' : `${kind} rotation`;
  throw new UserExemptError(
    `IAM user ${userName} is exempt from rotation (${exemption}), so this ${what} was refused and nothing was changed. ` +
      `To go on anyway, say so explicitly with the reason, with the same --local or --stage flags: \`iam-key-rotator ${command} ${userName} ${EXEMPTION_OVERRIDE_FLAG} "<why>"\` ` +
      `(input field exemptionOverride); the notices record the override. To end the exemption, remove the user from EXEMPT_PATHS / EXEMPT_GROUPS or remove its rotation:exempt tag. ` +
      `A leaked key is contained regardless: \`iam-key-rotator rotate ${userName} --compromised --key <access-key-id>\`.`,
  );
}
