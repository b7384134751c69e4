#!/usr/bin/env node
// Every test body follows the Prepare / Act / Assess form of test/README.md: its parts are opened by
// `// Prepare`, `// Act`, `// Assess` or `// Act & Assess` comments (each optionally followed by `: why`), in that
// order, each at most once, and every test has an Assess part. Prints each test that does not, and exits 1.
// Usage: node scripts/check-test-form.mjs [file…]   (default: every *.test.ts under test/)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MARKER = /^\s*\/\/ (Prepare|Act & Assess|Act|Assess)(?::.*)?$/;
const ORDER = { Prepare: 0, Act: 1, 'Act & Assess': 2, Assess: 2 };
const TEST_CALLEES = new Set(['test', 'it']);

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `test`, `it`, `test.each(...)`, `it.concurrent`, … : the identifier the call chain starts from. */
function calleeRoot(expression) {
  let node = expression;
  while (ts.isPropertyAccessExpression(node) || ts.isCallExpression(node) || ts.isTaggedTemplateExpression(node)) {
    node = ts.isPropertyAccessExpression(node) ? node.expression : ts.isCallExpression(node) ? node.expression : node.tag;
  }
  return ts.isIdentifier(node) ? node.text : undefined;
}

function problemsOf(body) {
  const markers = body
    .split('\n')
    .map((line) => MARKER.exec(line)?.[1])
    .filter((marker) => marker !== undefined);
  if (markers.length === 0) return ['no Prepare / Act / Assess markers'];
  const problems = [];
  if (!markers.includes('Assess') && !markers.includes('Act & Assess')) problems.push('no // Assess (or // Act & Assess) part');
  if (new Set(markers).size !== markers.length) problems.push(`a marker repeats (${markers.join(', ')})`);
  if (markers.includes('Act & Assess') && (markers.includes('Act') || markers.includes('Assess'))) {
    problems.push('// Act & Assess stands for both parts; drop the separate // Act or // Assess');
  }
  for (let i = 1; i < markers.length; i += 1) {
    if (ORDER[markers[i]] < ORDER[markers[i - 1]]) problems.push(`markers out of order (${markers.join(', ')})`);
  }
  return problems;
}

function check(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = [];
  const visit = (node) => {
    if (ts.isCallExpression(node) && TEST_CALLEES.has(calleeRoot(node.expression) ?? '')) {
      const callback = node.arguments.find((argument) => ts.isArrowFunction(argument) || ts.isFunctionExpression(argument));
      const name = node.arguments[0];
      if (callback && name && (ts.isStringLiteralLike(name) || ts.isTemplateExpression(name))) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        for (const problem of problemsOf(callback.body.getText())) {
          found.push(`${relative(process.cwd(), file)}:${line} ${name.getText().slice(0, 80)}: ${problem}`);
        }
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles('test');
const problems = files.flatMap(check);
for (const problem of problems) console.log(problem);
if (problems.length > 0) {
  console.log(`\n${problems.length} test(s) do not follow the Prepare / Act / Assess form of test/README.md.`);
  process.exit(1);
}
console.log(`${files.length} test files follow the Prepare / Act / Assess form.`);
