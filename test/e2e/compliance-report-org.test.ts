import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { sts } from '#shared/aws/clients.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import type { ComplianceReport } from '#shared/report/compliance-report.ts';
import { cli } from '../helpers/cli.ts';
import { MEMBER_ROLE, refuseAssumeRoleInto, seedOrganization } from '../helpers/org-seed.ts';

// `report --org` against an organization in moto: every selected account through its member role,
// one row of the accounts table each, and an account whose role is missing reported, not fatal.

const MANAGEMENT = '123456789012';
const dir = mkdtempSync(join(tmpdir(), 'compliance-report-org-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('iam-key-rotator report --org', () => {
  test('reads each member account through its member role, lists each with its counts, and names the one it could not read', async () => {
    // Prepare: three members, the last without the member role (refused at AssumeRole, as AWS refuses it).
    const org = await seedOrganization({ organizations: new OrganizationsClient({}), sts, managementAccountId: MANAGEMENT }, 3, 1);
    refuseAssumeRoleInto(sts, org.withoutRole, `arn:aws:iam::${MANAGEMENT}:user/auditor`);
    const asOf = new Date(Date.now() + 100 * DAY_MS).toISOString().slice(0, 10);
    Object.assign(process.env, { MEMBER_ROLE_NAME: MEMBER_ROLE, UNUSED_AFTER_DAYS: '365' });

    // Act
    const run = await cli('report', '--org', '--as-of', asOf, '--json', '--html', join(dir, 'org.html')).finally(() => {
      delete process.env.MEMBER_ROLE_NAME;
      delete process.env.UNUSED_AFTER_DAYS;
    });

    // Assess
    expect(run.code).toBe(1);
    const report = JSON.parse(run.out) as ComplianceReport;
    expect(report.accounts.map((account) => account.accountId).sort()).toEqual([MANAGEMENT, ...org.withRole, ...org.withoutRole].sort());
    for (const accountId of org.withRole) {
      expect(report.keys.filter((key) => key.accountId === accountId)).toEqual([expect.objectContaining({ compliance: 'overdue' })]);
    }
    const unread = report.accounts.find((account) => account.accountId === org.withoutRole[0]);
    expect(unread?.error).toContain('AccessDenied');
    expect(run.err).toContain(`account ${org.withoutRole[0] ?? ''} could not be read`);
    const html = readFileSync(join(dir, 'org.html'), 'utf8');
    expect(html).toContain('<table id="accounts">');
    for (const accountId of [...org.withRole, ...org.withoutRole]) expect(html).toContain(accountId);
  });
});
