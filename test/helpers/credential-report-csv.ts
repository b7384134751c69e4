/** Builds a credential report CSV in IAM's column layout, for unit tests that mock GetCredentialReport. */
export interface CsvKey {
  readonly active: boolean;
  readonly createdAt: Date;
  readonly lastUsedAt?: Date | undefined;
}

const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
  'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
  'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, '+00:00');

export function credentialReportCsv(users: ReadonlyArray<{ userName: string; path?: string; keys: readonly CsvKey[] }>): string {
  const rows = users.map(({ userName, path = '/', keys }) => {
    const slot = (key: CsvKey | undefined): string =>
      key === undefined
        ? 'false,N/A,N/A,N/A,N/A'
        : `${key.active},${iso(key.createdAt)},${key.lastUsedAt ? iso(key.lastUsedAt) : 'N/A'},${key.lastUsedAt ? 'us-east-1,sts' : 'N/A,N/A'}`;
    return `${userName},arn:aws:iam::123456789012:user${path}${userName},2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,${slot(keys[0])},${slot(keys[1])},false,N/A,false,N/A`;
  });
  return [HEADER, ...rows].join('\n');
}
