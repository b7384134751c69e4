import { describe, expect, test } from '@jest/globals';
import { asffProblems, findingId, keyFinding, type KeyFindingFact } from '#shared/findings/key-findings.ts';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const fact = (overrides: Partial<KeyFindingFact> = {}): KeyFindingFact => ({
  state: 'overdue',
  accountId: '123456789012',
  region: 'eu-west-1',
  userName: 'billing-export',
  accessKeyId: 'AKIAOLD0000000000001',
  owner: 'team-a@example.com',
  keyCreatedAt: '2026-06-01T00:00:00.000Z',
  keyStatus: 'Active',
  detail: 'age 183 days, past its 90-day window',
  remedy: 'iam-key-rotator rotate billing-export --key AKIAOLD0000000000001',
  ...overrides,
});

describe('keyFinding', () => {
  test.each([
    ['due-soon', 'LOW', 'WARNING'],
    ['due', 'MEDIUM', 'FAILED'],
    ['overdue', 'HIGH', 'FAILED'],
    ['unused', 'MEDIUM', 'WARNING'],
    ['exempt', 'INFORMATIONAL', 'WARNING'],
    ['needs-attention', 'MEDIUM', 'FAILED'],
    ['rotation-failed', 'HIGH', 'FAILED'],
    ['compromised', 'CRITICAL', 'FAILED'],
    ['resolved', 'INFORMATIONAL', 'PASSED'],
  ] as const)(
    '%s: severity %s (top level and FindingProviderFields), compliance %s, a valid ASFF finding',
    (state, severity, compliance) => {
      // Act
      const finding = keyFinding(fact({ state }), NOW);

      // Assess
      expect(finding).toMatchObject({
        Severity: { Label: severity },
        FindingProviderFields: { Severity: { Label: severity, Original: state } },
        Compliance: { Status: compliance },
        RecordState: state === 'resolved' ? 'ARCHIVED' : 'ACTIVE',
      });
      expect(asffProblems(finding)).toEqual([]);
    },
  );

  test('the id derives from account, user and key, and CreatedAt stays the key’s, so every import updates one finding', () => {
    // Act
    const first = keyFinding(fact({ state: 'due' }), NOW);
    const later = keyFinding(fact({ state: 'overdue' }), new Date('2026-12-02T12:00:00.000Z'));

    // Assess
    expect(first.Id).toBe(findingId('123456789012', 'billing-export', 'AKIAOLD0000000000001'));
    expect(later.Id).toBe(first.Id);
    expect(later.CreatedAt).toBe(first.CreatedAt);
    expect(later.UpdatedAt).toBe('2026-12-02T12:00:00.000Z');
    expect(first.ProductArn).toBe('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default');
  });

  test('only a finding imported as resolved carries a workflow status: a provider may not change it afterwards', () => {
    // Act & Assess
    expect(keyFinding(fact({ state: 'overdue' }), NOW)).not.toHaveProperty('Workflow');
    expect(keyFinding(fact({ state: 'resolved' }), NOW)).toMatchObject({ Workflow: { Status: 'RESOLVED' } });
  });

  test('long text is clipped to the format’s limits, and a finding past them is named by asffProblems', () => {
    // Act
    const finding = keyFinding(fact({ userName: 'u'.repeat(64), detail: 'd'.repeat(5000), remedy: 'r'.repeat(5000) }), NOW);

    // Assess
    expect(String(finding.Description).length).toBeLessThanOrEqual(1024);
    expect(String((finding.Remediation as { Recommendation: { Text: string } }).Recommendation.Text).length).toBeLessThanOrEqual(512);
    expect(asffProblems(finding)).toEqual([]);
    expect(asffProblems({ ...finding, Title: 't'.repeat(300), Resources: [] })).toEqual([
      'Title is longer than 256 characters',
      'Resources must hold 1 to 32 resources',
    ]);
    expect(asffProblems({ Id: 'x' })).toContain('ProductArn is missing');
  });
});
