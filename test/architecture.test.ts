import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The dependency rule of ../shared/design/brief.md, checked by reading imports:
 * `http, cli -> core -> policy, csp -> protocol`; `core -> store (interfaces only)`; `protocol` imports nothing of
 * ours; only the composition root (main.ts, and the CLI that runs it) picks a concrete store.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Import {
  /** Importing file, relative to the repository root with forward slashes, e.g. `src/core/enrollment.ts`. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** For a relative specifier: the imported file relative to the repository root; undefined for a package. */
  target: string | undefined;
  /** For a package: its name (`fastify`, `@peculiar/x509`); undefined for a relative specifier. */
  packageName: string | undefined;
}

/** `import x from '…'`, `import type … from '…'`, `export … from '…'`, `import '…'`, `import('…')`; a specifier has no space, so a label such as `'Receive data from', …` is not one. */
const IMPORT_PATTERN = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\s]+)\1/gm;

function withoutComments(source: string): string {
  // Only comments that start a line: `//` inside strings (URLs) must stay.
  return source.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');
}

function scanImports(file: string, source: string): Import[] {
  const imports: Import[] = [];
  for (const match of withoutComments(source).matchAll(IMPORT_PATTERN)) {
    const specifier = match[2]!;
    if (specifier.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      imports.push({ file, specifier, target, packageName: undefined });
    } else {
      const parts = specifier.split('/');
      const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
      imports.push({ file, specifier, target: undefined, packageName });
    }
  }
  return imports;
}

async function tsFiles(directory: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, directory), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

function under(target: string | undefined, folder: string): boolean {
  return target !== undefined && target.startsWith(`${folder}/`);
}

function violations(imports: readonly Import[], forbidden: (i: Import) => boolean): string[] {
  return imports.filter(forbidden).map((i) => `${i.file} -> ${i.specifier}`);
}

function assertNone(list: string[], rule: string): void {
  assert.deepEqual(list, [], `${rule}; violations:\n  ${list.join('\n  ')}`);
}

const CONCRETE_STORE = new Set(['src/store/open-store.ts', 'src/store/sqlite.ts', 'src/store/postgres.ts', 'src/store/kysely-store.ts']);
const STORE_INTERFACES = new Set(['src/store/collection-query.ts', 'src/store/collections.ts', 'src/store/records.ts', 'src/store/roles.ts', 'src/store/app-protection-records.ts', 'src/store/app-protection-roles.ts', 'src/store/health-attestation-records.ts', 'src/store/compliance-records.ts', 'src/store/audit-records.ts']);
const DATABASE_PACKAGES = new Set(['kysely', 'pg', 'better-sqlite3']);

/**
 * The only files outside src/store (which defines, implements and opens it) that may name the whole `Store`: the
 * composition roots, which open the store and hand each consumer the roles it uses. Every other consumer names the
 * role interfaces of src/store/roles.ts it needs (`TenantStore & GroupStore`, `Pick<ManagementStore, ...>`) or the
 * sub-stores it reads (`Pick<Store, 'signIns'>`, `Store['audit']`), so a new consumer cannot quietly take everything.
 */
const WHOLE_STORE_ROOTS = new Set(['src/app.ts', 'src/cli/main.ts']);
/** Types that are the whole store under another name: its class, and the composition root's fields that hold it. */
const WHOLE_STORE_CLASSES = new Set(['Store', 'KyselyStore']);
const WHOLE_STORE_HOLDERS = new Set(['AppDependencies', 'OpenMamApp']);

/**
 * Where `source` names the whole store as a type, as `line: text`: `Store` (or an alias it was imported under,
 * or `roles.Store`), `KyselyStore`, `AppDependencies['store']`, `OpenMamApp['store']`, `typeof openStore`. A part of
 * it is not the whole: `Pick<Store, ...>` and `Store['signIns']` pass. Read with the TypeScript parser, so comments and
 * strings ("the Microsoft Store app") never count.
 */
function wholeStoreMentions(file: string, source: string): string[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const names = new Set(WHOLE_STORE_CLASSES);
  const found: string[] = [];
  const report = (node: ts.Node): void => {
    const { line } = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile));
    found.push(`${line + 1}: ${node.getText(sourceFile)}`);
  };
  const namesWholeStore = (name: ts.EntityName | ts.Expression): boolean =>
    ts.isIdentifier(name) ? names.has(name.text) : ts.isQualifiedName(name) ? WHOLE_STORE_CLASSES.has(name.right.text) : ts.isPropertyAccessExpression(name) && WHOLE_STORE_CLASSES.has(name.name.text);
  // A part of the store: the object of an indexed access, or what Pick picks from.
  const isPart = (node: ts.Node): boolean => {
    const parent = node.parent;
    if (ts.isIndexedAccessTypeNode(parent)) return parent.objectType === node;
    return ts.isTypeReferenceNode(parent) && ts.isIdentifier(parent.typeName) && parent.typeName.text === 'Pick' && parent.typeArguments?.[0] === node;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportSpecifier(node) && WHOLE_STORE_CLASSES.has((node.propertyName ?? node.name).text)) names.add(node.name.text);
    else if ((ts.isTypeReferenceNode(node) && namesWholeStore(node.typeName)) || (ts.isExpressionWithTypeArguments(node) && namesWholeStore(node.expression))) {
      if (!isPart(node)) report(node);
    } else if (
      ts.isIndexedAccessTypeNode(node) &&
      ts.isTypeReferenceNode(node.objectType) &&
      ts.isIdentifier(node.objectType.typeName) &&
      WHOLE_STORE_HOLDERS.has(node.objectType.typeName.text) &&
      ts.isLiteralTypeNode(node.indexType) &&
      ts.isStringLiteral(node.indexType.literal) &&
      node.indexType.literal.text === 'store'
    ) {
      report(node);
    } else if (ts.isTypeQueryNode(node) && ts.isIdentifier(node.exprName) && node.exprName.text === 'openStore') report(node);
    ts.forEachChild(node, visit);
  };
  // Import specifiers come first in a module, so an alias is known before it is used.
  visit(sourceFile);
  return found;
}

let all: Import[] = [];
const sources = new Map<string, string>();
const importsUnder = (folder: string): Import[] => all.filter((i) => i.file.startsWith(`${folder}/`));

before(async () => {
  const files = [...(await tsFiles('src')), ...(await tsFiles('packages/client/src')), ...(await tsFiles('packages/contract/src')), ...(await tsFiles('web/src'))];
  const scanned = await Promise.all(
    files.map(async (file) => {
      const source = await readFile(path.join(ROOT, file), 'utf8');
      sources.set(file, source);
      return scanImports(file, source);
    }),
  );
  all = scanned.flat();
});

describe('import scanner', () => {
  it('finds the imports of a known file', async () => {
    const file = 'src/main.ts';
    const imports = scanImports(file, await readFile(path.join(ROOT, file), 'utf8'));
    const targets = imports.map((i) => i.target ?? i.packageName);
    for (const expected of ['src/app.ts', 'src/config.ts', 'src/store/open-store.ts', 'node:crypto', 'fastify']) {
      assert.ok(targets.includes(expected), `scanImports(${file}) misses ${expected}; found ${targets.join(', ')}`);
    }
  });

  it('reads every import form and skips comments', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n  C,\n} from '../store/b.ts';",
      "export { d } from './d.ts';",
      "import './side-effect.ts';",
      "const e = await import('fastify/types');",
      "import x509 from '@peculiar/x509';",
      "// import { no } from 'kysely';",
      "/* import { no } from 'pg'; */",
      "const url = 'https://example.com/from';",
    ].join('\n');
    const found = scanImports('src/core/x.ts', source).map((i) => i.target ?? i.packageName);
    assert.deepEqual(found, ['src/core/a.ts', 'src/store/b.ts', 'src/core/d.ts', 'src/core/side-effect.ts', 'fastify', '@peculiar/x509']);
  });

  it('scans every layer', () => {
    for (const folder of ['src/protocol', 'src/core', 'src/identity', 'src/store', 'src/http', 'src/cli', 'src/gateway', 'src/simulator', 'packages/client/src', 'packages/contract/src', 'web/src']) {
      assert.ok(importsUnder(folder).length > 0, `no imports found under ${folder}: the rules below would pass vacuously`);
    }
  });
});

describe('dependency rule', () => {
  it('src/protocol imports nothing of ours outside src/protocol', () => {
    assertNone(
      violations(importsUnder('src/protocol'), (i) => i.target !== undefined && !under(i.target, 'src/protocol')),
      'protocol must not depend on the rest of OpenMAM',
    );
  });

  it('src/core uses no web framework, database, XML parser, transport, CLI or concrete store', () => {
    assertNone(
      violations(importsUnder('src/core'), (i) => {
        if (i.packageName !== undefined) {
          return i.packageName === 'fastify' || i.packageName.startsWith('@fastify/') || DATABASE_PACKAGES.has(i.packageName) || i.packageName === 'saxes';
        }
        const target = i.target!;
        if (under(target, 'src/http') || under(target, 'src/cli') || under(target, 'src/protocol/xml')) return true;
        return under(target, 'src/store') && !STORE_INTERFACES.has(target);
      }),
      'core may use only store interfaces (records.ts, roles.ts) and no fastify, kysely, pg, better-sqlite3, saxes, http, cli or protocol/xml',
    );
  });

  it('src/policy and src/csp stay below core: no core, http, cli, identity or store', () => {
    assertNone(
      violations([...importsUnder('src/policy'), ...importsUnder('src/csp')], (i) =>
        i.target === undefined ? false : ['src/core', 'src/http', 'src/cli', 'src/identity', 'src/store', 'src/gateway'].some((folder) => under(i.target!, folder)),
      ),
      'policy and csp are pure models and compilers: core uses them, never the other way round',
    );
  });

  it('src/identity does not depend on http, cli, core or concrete store files', () => {
    assertNone(
      violations(importsUnder('src/identity'), (i) => {
        const target = i.target;
        if (target === undefined) return i.packageName !== undefined && DATABASE_PACKAGES.has(i.packageName);
        if (under(target, 'src/http') || under(target, 'src/cli') || under(target, 'src/core')) return true;
        return under(target, 'src/store') && !STORE_INTERFACES.has(target);
      }),
      'identity may use only store interfaces and no http, cli or core',
    );
  });

  it('src/store does not depend on core, http, cli, identity or protocol', () => {
    assertNone(
      violations(importsUnder('src/store'), (i) =>
        ['src/core', 'src/http', 'src/cli', 'src/identity', 'src/protocol'].some((folder) => under(i.target, folder)),
      ),
      'store must not depend on the layers above it',
    );
  });

  it('src/http is an adapter: core, identity, protocol, store interfaces and the contract; no database, no concrete store, no cli', () => {
    assertNone(
      violations(importsUnder('src/http'), (i) => {
        if (i.packageName !== undefined) return DATABASE_PACKAGES.has(i.packageName);
        const target = i.target!;
        if (under(target, 'src/cli') || under(target, 'src/gateway') || under(target, 'src/csp') || under(target, 'src/policy')) return true;
        return under(target, 'src/store') && !STORE_INTERFACES.has(target);
      }),
      'http parses, calls core and writes answers: it may use core, identity, protocol, the store interfaces (records, roles, collection-query, collections) and packages/contract; never kysely, pg, better-sqlite3, a concrete store, csp, policy or the cli',
    );
  });

  it('src/gateway talks to OpenMAM over HTTP only: nothing of ours outside src/gateway but errors.ts, no database or XML', () => {
    assertNone(
      violations(importsUnder('src/gateway'), (i) => {
        if (i.packageName !== undefined) return DATABASE_PACKAGES.has(i.packageName) || i.packageName === 'saxes';
        return !under(i.target, 'src/gateway') && i.target !== 'src/errors.ts';
      }),
      'the gateway is a separate process: it may use only its own folder, errors.ts and protocol-free packages (fastify, @fastify/http-proxy, undici)',
    );
  });

  it('src/simulator is a client of OpenMAM: its own folder, Node built-ins and the SDK (packages/client/src), nothing else', () => {
    assertNone(
      violations(importsUnder('src/simulator'), (i) =>
        i.packageName !== undefined ? !i.packageName.startsWith('node:') : !under(i.target, 'src/simulator') && !under(i.target, 'packages/client/src'),
      ),
      "the simulator speaks to a running server over HTTPS only, and writes its own XML, so the server's readers and writers stay under test",
    );
  });

  it('only src/cli imports src/simulator', () => {
    assertNone(
      violations(
        all.filter((i) => !i.file.startsWith('src/simulator/') && !i.file.startsWith('src/cli/')),
        (i) => under(i.target, 'src/simulator'),
      ),
      'the simulator is a tool (openmam simulate, tests); the server never runs it',
    );
  });

  it('packages/client (the app SDK) imports only its own files, Node built-ins and the main entry of @openmam/contract', () => {
    assertNone(
      violations(importsUnder('packages/client/src'), (i) =>
        i.packageName !== undefined ? !i.packageName.startsWith('node:') && i.specifier !== '@openmam/contract' : !under(i.target, 'packages/client/src'),
      ),
      '@openmam/client ships with one runtime dependency, @openmam/contract (its main entry: no typebox), and nothing of the server',
    );
  });

  it('packages/contract imports only its own files and typebox; only schemas.ts loads typebox at run time', () => {
    assertNone(
      violations(importsUnder('packages/contract/src'), (i) => (i.packageName !== undefined ? i.packageName !== 'typebox' : !under(i.target, 'packages/contract/src'))),
      '@openmam/contract is shared by the server and the SDK: nothing of either',
    );
    // A value import of typebox (or of schemas.ts, which loads it) from the main entry would load typebox in every app.
    const valueImport = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s*['"](?:typebox|\.\/schemas\.ts)['"]/m;
    const loading = [...sources].filter(([file, source]) => file.startsWith('packages/contract/src/') && file !== 'packages/contract/src/schemas.ts' && valueImport.test(withoutComments(source)));
    assert.deepEqual(loading.map(([file]) => file), [], 'only packages/contract/src/schemas.ts may import typebox (or schemas.ts) other than with `import type`');
  });


  it('web/src (the console) talks to OpenMAM over HTTP only: its own files and browser UI packages, nothing of the server', () => {
    const CONSOLE_PACKAGES = new Set(['react', 'react-dom', '@fluentui/react-components', '@fluentui/react-icons', '@tanstack/react-query', 'uplot']);
    assertNone(
      violations(importsUnder('web/src'), (i) => (i.packageName !== undefined ? !CONSOLE_PACKAGES.has(i.packageName) : !under(i.target, 'web/src'))),
      'the console uses only the public admin API: no import of src/, packages/ or Node packages',
    );
  });

  it('only src/main.ts and src/cli pick a concrete store', () => {
    assertNone(
      violations(
        all.filter((i) => i.file !== 'src/main.ts' && !i.file.startsWith('src/cli/') && !i.file.startsWith('src/store/')),
        (i) => i.target !== undefined && CONCRETE_STORE.has(i.target),
      ),
      'open-store.ts, sqlite.ts, postgres.ts and kysely-store.ts are wired only by the composition root',
    );
  });

  it('the role repositories of src/store/repositories are wired by the store alone', () => {
    assertNone(
      violations(all, (i) => under(i.target, 'src/store/repositories') && !i.file.startsWith('src/store/')),
      'KyselyStore (kysely-store.ts) builds the repositories and exposes them through Store; everyone else takes a role interface',
    );
  });

  it('only src/http/metrics uses prom-client: core, identity and store report through their own small interfaces', () => {
    assertNone(
      violations(all, (i) => i.packageName === 'prom-client' && !i.file.startsWith('src/http/metrics/')),
      'prom-client stays in src/http/metrics; a cache reports to a CacheObserver (identity/identity.ts), the store to a QueryObserver (store/roles.ts)',
    );
  });
});

describe('consumers take the roles they use', () => {
  it('the whole-store reader finds the whole store and lets its parts and its name in prose pass', () => {
    const source = [
      "import type { Store as Everything, TenantStore } from '../store/roles.ts';",
      "import type * as roles from '../store/roles.ts';",
      'function a(store: Store): void {}',
      'function b(store: Everything & TenantStore): void {}',
      'function c(store: roles.Store): void {}',
      "function d(store: AppDependencies['store'], other: OpenMamApp['store']): void {}",
      'function e(store: Awaited<ReturnType<typeof openStore>>): void {}',
      'interface F extends Store {}',
      'const g: KyselyStore | undefined = undefined;',
      "function h(store: Pick<Store, 'signIns'>, audit: Store['audit'], tenants: TenantStore): void {}",
      '// function no(store: Store): void {}',
      "const label = 'the Microsoft Store app'; const text = `${label} Store`;",
    ].join('\n');
    assert.deepEqual(wholeStoreMentions('src/core/x.ts', source), [
      '3: Store',
      '4: Everything',
      '5: roles.Store',
      "6: AppDependencies['store']",
      "6: OpenMamApp['store']",
      '7: typeof openStore',
      '8: Store',
      '9: KyselyStore',
    ]);
  });

  it(`only the composition roots (${[...WHOLE_STORE_ROOTS].join(', ')}) name the whole Store; src and bench consumers take role interfaces`, async () => {
    const files = [...(await tsFiles('src')), ...(await tsFiles('bench'))].filter((file) => !file.startsWith('src/store/'));
    const mentions = new Map<string, string[]>();
    await Promise.all(
      files.map(async (file) => {
        const found = wholeStoreMentions(file, sources.get(file) ?? (await readFile(path.join(ROOT, file), 'utf8')));
        if (found.length > 0) mentions.set(file, found);
      }),
    );
    const outside = [...mentions].filter(([file]) => !WHOLE_STORE_ROOTS.has(file)).flatMap(([file, found]) => found.map((at) => `${file}:${at}`));
    assertNone(
      outside.sort(),
      'a consumer takes the intersection of the role interfaces it uses (src/store/roles.ts), or Pick<Store, ...> of the sub-stores, never the whole Store; only the composition roots hold it',
    );
    // A root that no longer names the whole store leaves the list, so the list stays the truth.
    assert.deepEqual([...WHOLE_STORE_ROOTS].filter((file) => !mentions.has(file)), [], 'an allow-listed composition root no longer names Store: remove it from WHOLE_STORE_ROOTS');
  });
});
