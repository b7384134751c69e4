import { ACCOUNT_ID } from '../base/account-id.ts';
import { ConfigError } from '../base/errors.ts';

/** The organization scan's account filters (ORG_INCLUDE_* / ORG_EXCLUDE_*), parsed and checked at start. */

/** `{ key }` matches the tag with any value; `{ key, value }` only that exact value (tags are case-sensitive). */
export interface TagMatcher {
  readonly key: string;
  readonly value?: string;
}

/**
 * Which accounts to scan. An empty list is no filter. Every include kind that is set must match
 * (an account in an included OU and, when tags are set too, with an included tag); within a kind
 * one match is enough. Any exclude wins over every include.
 */
export interface AccountFilters {
  readonly includeOus: readonly string[];
  readonly excludeOus: readonly string[];
  readonly includeAccounts: readonly string[];
  readonly excludeAccounts: readonly string[];
  readonly includeTags: readonly TagMatcher[];
  readonly excludeTags: readonly TagMatcher[];
}

export const NO_FILTERS: AccountFilters = {
  includeOus: [],
  excludeOus: [],
  includeAccounts: [],
  excludeAccounts: [],
  includeTags: [],
  excludeTags: [],
};

// Split on commas and whitespace, as the other list settings are.
const ENTRY_SEPARATOR = /[,\s]+/;
// Organizations tag keys and values: letters, digits, spaces and _ . : / = + - @ (spaces cannot be
// written here, as they separate entries). A key cannot hold "=", which separates key from value.
const TAG_KEY = /^[\p{L}\p{N}_.:/+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{N}_.:/=+\-@]{1,256}$/u;
const OU_OR_ROOT_ID = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;

function entries(text: string): string[] {
  return text.split(ENTRY_SEPARATOR).filter((entry) => entry.length > 0);
}

/** `env=prod, team` → `[{ key: 'env', value: 'prod' }, { key: 'team' }]`; a malformed entry throws a ConfigError naming `setting`. */
export function parseTagMatchers(text: string, setting: string): TagMatcher[] {
  return entries(text).map((entry) => {
    const at = entry.indexOf('=');
    const key = at === -1 ? entry : entry.slice(0, at);
    const value = at === -1 ? undefined : entry.slice(at + 1);
    if (!TAG_KEY.test(key)) {
      throw new ConfigError(
        `${setting} entry "${entry}" has no valid tag key: write key=value or key (any value), separated by commas, e.g. env=prod,team`,
      );
    }
    if (value === undefined) return { key };
    if (!TAG_VALUE.test(value)) {
      throw new ConfigError(
        `${setting} entry "${entry}" has no valid tag value after "=": write ${key}=value for one value, or ${key} alone for any value`,
      );
    }
    return { key, value };
  });
}

/** 12-digit account ids, separated by commas or spaces; anything else throws a ConfigError naming `setting`. */
export function parseAccountIds(text: string, setting: string): string[] {
  const ids = entries(text);
  const bad = ids.filter((id) => !ACCOUNT_ID.test(id));
  if (bad.length > 0)
    throw new ConfigError(
      `${setting} must list 12-digit AWS account ids separated by commas (not ${bad.map((id) => `"${id}"`).join(', ')})`,
    );
  return ids;
}

/**
 * OU ids (ou-xxxx-xxxxxxxx) or root ids (r-xxxx), separated by commas or spaces. Ids, not names:
 * names are not unique in an organization. A typo would silently match nothing, so it throws.
 */
export function parseOuIds(text: string, setting: string): string[] {
  const ids = entries(text);
  const bad = ids.filter((id) => !OU_OR_ROOT_ID.test(id));
  if (bad.length > 0) {
    throw new ConfigError(
      `${setting} must list OU ids like ou-ab12-cd34ef56 (or a root id like r-ab12) separated by commas (not ${bad.map((id) => `"${id}"`).join(', ')}); see aws organizations list-organizational-units-for-parent`,
    );
  }
  return ids;
}

/** Tags are only worth one call per account when a tag filter needs them. */
export function filtersNeedTags(filters: AccountFilters): boolean {
  return filters.includeTags.length > 0 || filters.excludeTags.length > 0;
}
