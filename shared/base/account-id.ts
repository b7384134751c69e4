import * as z from 'zod/mini';

/** A 12-digit AWS account id: the one shape every setting, flag, event field and state field holding an account checks against. */
export const ACCOUNT_ID = /^\d{12}$/;

export const AccountId = z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit AWS account id'));
