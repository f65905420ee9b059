#!/usr/bin/env node
// Lists shipped source files over --max-file lines (default 500) and functions
// over --max-function lines (default 80), for issue 13's "must show".
// Tests (*.test.ts) and fixtures (any testing/ folder) are left out.
// A function's length is the lines from its first to its last (signature and
// body); a nested function counts on its own and inside its parent.
// Usage: node scripts/long-functions.mjs [--max-file 500] [--max-function 80] [dir ...]
// Exits 1 when anything is over a limit, so it can gate CI later.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import console from 'node:console';
import process from 'node:process';
import ts from 'typescript';

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return Number(value);
}
const maxFile = option('--max-file', 500);
const maxFunction = option('--max-function', 80);
const roots = args.length > 0 ? args : ['src'];

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testing' && entry.name !== 'node_modules') yield* sourceFiles(path);
    } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      yield path;
    }
  }
}

function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name && (ts.isStringLiteral(node.name) || ts.isPrivateIdentifier(node.name))) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '<anonymous>';
}

function ownerOf(node) {
  for (let at = node.parent; at; at = at.parent) {
    if ((ts.isClassDeclaration(at) || ts.isClassExpression(at)) && at.name) return `${at.name.text}.`;
  }
  return '';
}

const isFunction = (node) =>
  ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) ||
  ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

const longFiles = [];
const longFunctions = [];
for (const root of roots) {
  for (const path of sourceFiles(root)) {
    const text = readFileSync(path, 'utf8');
    const file = relative(process.cwd(), path);
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > maxFile) longFiles.push({ file, lines });
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (isFunction(node) && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const length = end - start + 1;
        if (length > maxFunction) longFunctions.push({ file, line: start + 1, name: ownerOf(node) + nameOf(node), length });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

longFiles.sort((a, b) => b.lines - a.lines);
longFunctions.sort((a, b) => b.length - a.length);
console.log(`Files over ${maxFile} lines (tests and testing/ left out): ${longFiles.length}`);
for (const { file, lines } of longFiles) console.log(`  ${String(lines).padStart(5)}  ${file}`);
console.log(`Functions over ${maxFunction} lines: ${longFunctions.length}`);
for (const { file, line, name, length } of longFunctions) console.log(`  ${String(length).padStart(5)}  ${file}:${line}  ${name}`);
process.exitCode = longFiles.length + longFunctions.length > 0 ? 1 : 0;
