#!/usr/bin/env node
// `npm test`: typecheck, lint, format, the Prepare / Act / Assess form of every test, unit tests, integration + e2e
// tests against one moto_server, and the `osls package` check (inside the integration tier). Ends with the plain line `Tests: N passed, N failed`
// that CI reads, and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const resultsDir = '.test-results';
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

let passed = 0;
let failed = 0;
const failures = [];

function run(label, command, args) {
  console.log(`\n▶ ${label}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
  if (result.error) {
    console.log(
      `could not run ${command}: ${result.error.message}. Run the tests through \`npm test\`, which puts node_modules/.bin on PATH.`,
    );
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${label} (${seconds}s)`);
  return ok;
}

function check(label, command, args) {
  if (run(label, command, args)) passed += 1;
  else {
    failed += 1;
    failures.push(label);
  }
}

function jest(project, extraArgs) {
  const output = `${resultsDir}/${project}.json`;
  const ok = run(`${project} tests`, 'jest', ['--selectProjects', project, '--json', `--outputFile=${output}`, ...extraArgs]);
  let report;
  try {
    report = JSON.parse(readFileSync(output, 'utf8'));
  } catch {
    failed += 1;
    failures.push(`${project} tests (jest produced no report)`);
    return;
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  if (report.numPendingTests + report.numTodoTests > 0) {
    // A skipped test is not a passing one.
    failed += report.numPendingTests + report.numTodoTests;
    failures.push(`${project}: ${report.numPendingTests + report.numTodoTests} skipped or todo tests`);
  }
  for (const suite of report.testResults) {
    for (const test of suite.assertionResults) if (test.status === 'failed') failures.push(`${project}: ${test.fullName}`);
    if (suite.status === 'failed' && suite.assertionResults.every((test) => test.status !== 'failed')) {
      failures.push(`${project}: ${suite.name} failed to run`);
    }
  }
  if (!ok && report.numFailedTests + report.numRuntimeErrorTestSuites === 0) {
    failed += 1;
    failures.push(`${project} tests (jest exited non-zero)`);
  }
}

const only = process.argv[2];
if (!only || only === 'static') {
  check('typecheck', 'tsc', ['--noEmit']);
  check('lint', 'eslint', ['.']);
  check('format', 'prettier', ['--check', '.']);
  check('test form', 'node', ['scripts/check-test-form.mjs']);
}
if (!only || only === 'unit') jest('unit', []);
if (!only || only === 'integration') {
  // The CLI bundle the package test packs, and the spawned CLI runs, built from the sources as they are now.
  check('build the CLI', 'node', ['scripts/build-cli.mjs']);
  jest('integration', ['--runInBand']);
}

if (failures.length > 0) {
  console.log('\nFailures:');
  for (const failure of failures) console.log(`  - ${failure}`);
}
console.log(`\nTests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
