#!/usr/bin/env node
'use strict';
/*
 * Doxygen input filter for TypeScript (Doxyfile: FILTER_PATTERNS = *.ts="node tools/doxygen-filter.cjs").
 *
 * How it works: doxygen 1.9.4 has no TypeScript parser; with EXTENSION_MAPPING ts=JavaScript it
 * reads C-like declarations. This filter parses the file with the TypeScript compiler (so
 * multi-line parameter lists, generics, defaults, optional and destructured parameters, unions
 * and object-literal types are all handled) and prints, line for line, a skeleton doxygen
 * understands:
 *   - imports and re-exports vanish (their lines stay, blank);
 *   - `interface X` and object-literal `type X = {..}` become `class X { T field; R m(T a); }`;
 *   - other `type X = T` become `typedef T X;`; enums stay enums;
 *   - functions and arrow-function consts become `R name(T a, U b) {}` (`function` when untyped);
 *   - class members become `T field;` / `R method(T a) {}`; private and `#` members are skipped;
 *   - module-private declarations (not exported) are printed only if they have a doc comment,
 *     so doxygen's undocumented-warnings are about the public surface;
 *   - every statement is printed on the line where it starts, every doc comment on its own lines,
 *     so doxygen's warnings point at the real source lines. Bodies are not printed.
 * Types are rendered in a form doxygen's scanner survives: object-literal types become `object`,
 * function types `Function`, literal types their base type, `keyof`/`typeof`/mapped types `any`.
 */
const fs = require('node:fs');
const ts = require('typescript');

const file = process.argv[2];
const text = fs.readFileSync(file, 'utf8');
const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
const out = text.split('\n').map(() => '');
const emittedComments = new Set();

/** Appends `s` to the output line holding source position `pos`. */
function put(pos, s) {
  const { line } = sf.getLineAndCharacterOfPosition(pos);
  out[line] = out[line] ? `${out[line]} ${s}` : s;
}

/** Copies the doc comments (`/** ... *\/`, `/// ...`) in front of `node` (or only @file ones). */
function docs(node, onlyFile = false) {
  for (const r of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
    const c = text.slice(r.pos, r.end);
    if (emittedComments.has(r.pos) || !(c.startsWith('/**') || c.startsWith('///'))) continue;
    if (onlyFile && !/[@\\]file\b/.test(c)) continue;
    emittedComments.add(r.pos);
    let pos = r.pos;
    for (const piece of c.split('\n')) {
      put(pos, piece.replace(/\r$/, ''));
      pos += piece.length + 1;
    }
  }
}

const hasMod = (n, k) => (ts.canHaveModifiers(n) ? ts.getModifiers(n) ?? [] : []).some((m) => m.kind === k);
const name = (n) => (n.name ? n.name.getText(sf).replace(/^['"]|['"]$/g, '') : '');

/**
 * A TypeScript type rendered for doxygen (see header). Arrays are `T[]` in parameter lists but
 * `Array<T>` in declarations (`T[] x;` reads to doxygen as a declarator and breaks the member).
 */
function type(t, decl = false) {
  if (!t) return 'any';
  switch (t.kind) {
    case ts.SyntaxKind.ParenthesizedType: return type(t.type, decl);
    case ts.SyntaxKind.ArrayType: return decl ? `Array<${type(t.elementType)}>` : `${type(t.elementType)}[]`;
    case ts.SyntaxKind.UnionType: return [...new Set(t.types.map((u) => type(u, decl)))].join('|');
    case ts.SyntaxKind.IntersectionType: return [...new Set(t.types.map(type))].join('&');
    case ts.SyntaxKind.TypeLiteral: case ts.SyntaxKind.MappedType: return 'object';
    case ts.SyntaxKind.FunctionType: case ts.SyntaxKind.ConstructorType: return 'Function';
    case ts.SyntaxKind.TupleType: return 'Array';
    case ts.SyntaxKind.TypeOperator:
      return t.operator === ts.SyntaxKind.ReadonlyKeyword ? type(t.type, decl) : 'any';
    case ts.SyntaxKind.LiteralType: {
      const l = t.literal;
      if (l.kind === ts.SyntaxKind.NullKeyword) return 'null';
      if (ts.isStringLiteral(l) || ts.isNoSubstitutionTemplateLiteral(l)) return 'string';
      if (ts.isNumericLiteral(l) || ts.isPrefixUnaryExpression(l)) return 'number';
      return 'boolean';
    }
    case ts.SyntaxKind.TemplateLiteralType: return 'string';
    case ts.SyntaxKind.TypeReference: {
      const args = t.typeArguments ? `<${t.typeArguments.map(type).join(', ')}>` : '';
      return t.typeName.getText(sf) + args;
    }
    case ts.SyntaxKind.ExpressionWithTypeArguments: {
      const args = t.typeArguments ? `<${t.typeArguments.map(type).join(', ')}>` : '';
      return t.expression.getText(sf) + args;
    }
    default: {
      const s = t.getText(sf);
      return /^[\w.]+$/.test(s) ? s : 'any';
    }
  }
}

/** The doc comment text in front of `node` ('' if none). */
function docText(node) {
  return (ts.getLeadingCommentRanges(text, node.pos) ?? []).map((r) => text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**')).join('\n');
}

/** The `@param` names of a doc comment, in order. */
const paramNames = (doc) => [...doc.matchAll(/[@\\]param(?:\[\w,]*\])?\s+(\w+)/g)].map((m) => m[1]);

/**
 * A parameter list `(T a, U b = 1)`. A destructured parameter takes the name its doc comment
 * gives at the same position (`@param opts ...`), else `options`.
 */
function params(ps, doc = '') {
  const names = paramNames(doc);
  return `(${ps
    .filter((p) => name(p) !== 'this')
    .map((p, i) => {
      const n = ts.isIdentifier(p.name) ? p.name.text : names[i] ?? 'options';
      let t = type(p.type);
      if (p.dotDotDotToken && !t.endsWith('[]')) t += '[]';
      const init = p.initializer && /^[\w.'"-]+$/.test(p.initializer.getText(sf)) ? ` = ${p.initializer.getText(sf)}` : '';
      return `${t} ${n}`.trim() + init;
    })
    .join(', ')})`;
}

/** The return type shown for a function-like node. */
function ret(fn) {
  if (fn.type) return type(fn.type, true);
  if (hasMod(fn, ts.SyntaxKind.AsyncKeyword)) return 'Promise';
  return 'function';
}

/** The type of a variable without annotation, guessed from its initializer. */
function guess(init) {
  if (!init) return 'var';
  while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
  if (ts.isNumericLiteral(init)) return 'number';
  if (ts.isStringLiteral(init) || ts.isTemplateExpression(init) || ts.isNoSubstitutionTemplateLiteral(init)) return 'string';
  if (init.kind === ts.SyntaxKind.TrueKeyword || init.kind === ts.SyntaxKind.FalseKeyword) return 'boolean';
  if (ts.isRegularExpressionLiteral(init)) return 'RegExp';
  if (ts.isArrayLiteralExpression(init)) return 'Array';
  if (ts.isObjectLiteralExpression(init)) return 'object';
  if (ts.isNewExpression(init)) return init.expression.getText(sf).replace(/[^\w.]/g, '') || 'var';
  return 'var';
}

const isFn = (e) => e && (ts.isArrowFunction(e) || ts.isFunctionExpression(e));
const hidden = (m) => hasMod(m, ts.SyntaxKind.PrivateKeyword) || (m.name && ts.isPrivateIdentifier(m.name));

/** Prints a class-like body: members on their own lines, `};` on the closing line. */
function members(list, close) {
  for (const m of list) {
    if (hidden(m)) continue;
    const st = hasMod(m, ts.SyntaxKind.StaticKeyword) ? 'static ' : '';
    let s = '';
    let fields = () => undefined;
    if (ts.isConstructorDeclaration(m)) {
      // Parameter properties become fields, printed after the constructor: on a line they share
      // with it, a field first would take the constructor's doc comment.
      fields = () => {
        for (const p of m.parameters) {
          if (ts.isIdentifier(p.name) && ts.isParameterPropertyDeclaration(p, m) && !hidden(p)) {
            docs(p);
            const said = new RegExp(`[@\\\\]param\\s+${p.name.text}\\s+([^@]*?)\\s*(?:\\*/|\\n\\s*\\*\\s*[@\\\\]|$)`).exec(docText(m));
            const brief = said && !docText(p) ? `/** ${said[1].replace(/\s*\n\s*\*?\s*/g, ' ')} */ ` : '';
            put(p.getStart(sf), `${brief}${type(p.type, true)} ${p.name.text};`);
          }
        }
      };
      s = `constructor${params(m.parameters, docText(m))}${m.body ? ' {}' : ';'}`;
    } else if (ts.isMethodDeclaration(m) || ts.isMethodSignature(m)) {
      s = `${st}${ret(m)} ${name(m)}${params(m.parameters, docText(m))}${m.body ? ' {}' : ';'}`;
    } else if (ts.isGetAccessorDeclaration(m)) {
      s = `${st}${ret(m)} ${name(m)}() {}`;
    } else if ((ts.isPropertyDeclaration(m) || ts.isPropertySignature(m)) && isFn(m.initializer)) {
      s = `${st}${ret(m.initializer)} ${name(m)}${params(m.initializer.parameters, docText(m))} {}`;
    } else if (ts.isPropertyDeclaration(m) || ts.isPropertySignature(m)) {
      s = `${st}${m.type ? type(m.type, true) : guess(m.initializer)} ${name(m)};`;
    } else continue;
    docs(m);
    put(m.getStart(sf), s);
    fields();
  }
  put(close, '};');
}

/** The ` extends A, B` clause of a class or interface. */
function heritage(n) {
  const parts = (n.heritageClauses ?? []).filter((h) => h.token === ts.SyntaxKind.ExtendsKeyword).flatMap((h) => h.types.map(type));
  return parts.length ? ` extends ${parts.join(', ')}` : '';
}

/** Names exported after the fact (`export { a, b }`, `export default a`). */
const exportedLater = new Set(sf.statements.flatMap((s) => {
  if (ts.isExportDeclaration(s) && !s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause)) {
    return s.exportClause.elements.map((e) => (e.propertyName ?? e.name).text);
  }
  return ts.isExportAssignment(s) && ts.isIdentifier(s.expression) ? [s.expression.text] : [];
}));

/** Exported, or documented: module-private declarations without a doc comment are left out. */
function shown(s) {
  if (hasMod(s, ts.SyntaxKind.ExportKeyword) || docText(s)) return true;
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && exportedLater.has(d.name.text));
  return Boolean(s.name && ts.isIdentifier(s.name) && exportedLater.has(s.name.text));
}

/** Prints one top-level (or namespace-level) statement. */
function statement(s) {
  const at = s.getStart(sf);
  if (!shown(s)) return docs(s, true);
  if (ts.isFunctionDeclaration(s) && s.name) {
    docs(s);
    put(at, `${ret(s)} ${s.name.text}${params(s.parameters, docText(s))}${s.body ? ' {}' : ';'}`);
  } else if (ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s)) {
    docs(s);
    put(at, `class ${s.name ? s.name.text : 'default'}${heritage(s)} {`);
    members(s.members, s.end - 1);
  } else if (ts.isTypeAliasDeclaration(s) && ts.isTypeLiteralNode(s.type)) {
    docs(s);
    put(at, `class ${s.name.text} {`);
    members(s.type.members, s.type.end - 1);
  } else if (ts.isTypeAliasDeclaration(s)) {
    docs(s);
    put(at, `typedef ${type(s.type, true)} ${s.name.text};`);
  } else if (ts.isEnumDeclaration(s)) {
    docs(s);
    put(at, `enum ${s.name.text} {`);
    for (const m of s.members) {
      docs(m);
      put(m.getStart(sf), `${name(m).replace(/\W/g, '_')},`);
    }
    put(s.end - 1, '};');
  } else if (ts.isVariableStatement(s)) {
    docs(s);
    for (const d of s.declarationList.declarations) {
      if (!ts.isIdentifier(d.name)) continue;
      const i = d.initializer;
      const line = isFn(i)
        ? `${ret(i)} ${d.name.text}${params(i.parameters, docText(s))} {}`
        : `${d.type ? type(d.type, true) : guess(i)} ${d.name.text};`;
      put(d.getStart(sf), line);
    }
  } else if (ts.isModuleDeclaration(s) && s.body && ts.isModuleBlock(s.body)) {
    docs(s);
    put(at, `namespace ${name(s)} {`);
    s.body.statements.forEach(statement);
    put(s.end - 1, '}');
  } else {
    docs(s, true);
  }
}

sf.statements.forEach(statement);
docs(sf.endOfFileToken, true);
process.stdout.write(out.join('\n'));
