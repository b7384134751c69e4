import { describe, expect, test } from '@jest/globals';
import type { AwsSecurityFinding, SecurityHubApi } from '#shared/aws/security-hub.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { writeFindings } from '#shared/findings/finding-writer.ts';
import { keyFinding } from '#shared/findings/key-findings.ts';

const finding = (index: number): AwsSecurityFinding =>
  keyFinding(
    {
      state: 'due',
      accountId: '123456789012',
      region: 'us-east-1',
      userName: `user-${index}`,
      accessKeyId: `AKIA${String(index).padStart(16, '0')}`,
      owner: null,
      keyCreatedAt: null,
      detail: 'due',
      remedy: 'rotating',
    },
    new Date('2026-12-01T00:00:00Z'),
  );

function hub(fail?: Error): SecurityHubApi & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    async batchImportFindings(findings) {
      batches.push(findings.length);
      if (fail) throw fail;
      return { successCount: findings.length, failedCount: 0, failedFindings: [] };
    },
    async getFindings() {
      return { findings: [], nextToken: undefined };
    },
  };
}

describe('writeFindings', () => {
  test('250 findings go in batches of 100, one request after another', async () => {
    // Prepare
    const api = hub();

    // Act
    const outcome = await writeFindings(
      api,
      Array.from({ length: 250 }, (_, index) => finding(index)),
      silentLogger(),
    );

    // Assess
    expect(api.batches).toEqual([100, 100, 50]);
    expect(outcome).toEqual({ written: 250, failed: 0, calls: 3 });
  });

  test('a finding Security Hub would refuse is not sent, and is counted as failed with the reason', async () => {
    // Prepare
    const api = hub();

    // Act
    const outcome = await writeFindings(api, [finding(1), { ...finding(2), Title: '' }], silentLogger());

    // Assess
    expect(api.batches).toEqual([1]);
    expect(outcome).toMatchObject({ written: 1, failed: 1, error: expect.stringContaining('Title is missing') as unknown });
  });

  test('Security Hub refusing every call never throws: the findings are counted as failed for the next event to write', async () => {
    // Prepare
    const api = hub(Object.assign(new Error('Security Hub is not enabled'), { name: 'SecurityHubError' }));

    // Act
    const outcome = await writeFindings(api, [finding(1), finding(2)], silentLogger());

    // Assess
    expect(outcome).toMatchObject({ written: 0, failed: 2, calls: 1, error: 'SecurityHubError: Security Hub is not enabled' });
  });
});
