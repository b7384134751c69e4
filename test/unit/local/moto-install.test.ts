import { describe, expect, test } from '@jest/globals';
import { planMoto, type MotoFacts } from '#local/moto-install.ts';

const none: MotoFacts = {
  envCommand: undefined,
  onPath: false,
  venvCommand: '/repo/.moto-venv/bin/moto_server',
  venvReady: false,
  python: undefined,
};

describe('planMoto: which moto_server a fresh machine uses', () => {
  test.each([
    [
      'MOTO_SERVER_COMMAND wins',
      { ...none, envCommand: '/opt/moto/bin/moto_server', onPath: true },
      { kind: 'use', command: '/opt/moto/bin/moto_server' },
    ],
    ['moto_server on PATH', { ...none, onPath: true, python: 'Python 3.11.2' }, { kind: 'use', command: 'moto_server' }],
    [
      'the project venv, installed before',
      { ...none, venvReady: true, python: 'Python 3.11.2' },
      { kind: 'use', command: '/repo/.moto-venv/bin/moto_server' },
    ],
    ['Python but no moto: install it', { ...none, python: 'Python 3.11.2' }, { kind: 'install', python: 'Python 3.11.2' }],
  ])('%s', (_case, facts, plan) => {
    // Act & Assess
    expect(planMoto(facts)).toEqual(plan);
  });

  test('no moto and no Python: the message says exactly what to install', () => {
    // Act
    const plan = planMoto(none);

    // Assess
    expect(plan).toMatchObject({ kind: 'missing' });
    const message = plan.kind === 'missing' ? plan.message : '';
    expect(message).toContain('Install Python 3.9 or later (Debian/Ubuntu: apt install python3 python3-venv)');
    expect(message).toContain("pip install 'moto[server]==5.2.1'");
    expect(message).toContain('MOTO_SERVER_COMMAND');
  });
});
