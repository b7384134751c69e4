/**
 * Temporary credentials (a session from GetSessionToken, GetFederationToken, AssumeRole or a console
 * sign-in) have key ids that start with ASIA; an IAM user's long-term access keys with AKIA (IAM user
 * guide, "Unique identifiers"). A finding about an ASIA key is about sessions: there is no key to rotate.
 */
export const isSessionKeyId = (accessKeyId: string): boolean => accessKeyId.startsWith('ASIA');
