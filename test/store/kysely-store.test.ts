import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { openStore } from '../../src/store/open-store.ts';

/**
 * KyselyStore's role methods are declared only in the role interfaces (src/store/roles.ts) and set at construction
 * from its repositories' prototypes (kysely-store.ts bindRoles): the compiler checks the repositories have them, and
 * this checks each really is a function on a store, as the interfaces name them (read by the compiler, not listed).
 */
const ROLES = fileURLToPath(new URL('../../src/store/roles.ts', import.meta.url));

/** The names of the methods of the interfaces `names` of roles.ts, with those they extend. */
function methodsOf(names: readonly string[]): string[] {
  // Only the names are read: no lib, no type checking of the files (a fifth of a second).
  const program = ts.createProgram([ROLES], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(ROLES)!;
  const methods = new Set<string>();
  for (const name of names) {
    const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
    assert.ok(declaration, `interface ${name} in roles.ts`);
    for (const property of checker.getPropertiesOfType(checker.getTypeAtLocation(declaration))) {
      if (property.declarations?.some((d) => ts.isMethodSignature(d))) methods.add(property.name);
    }
  }
  return [...methods].sort();
}

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-kysely-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('KyselyStore (SQLite): every method of its roles', () => {
  const methods = methodsOf(['Store', 'SecretStore']);

  it('are found in the role interfaces', () => {
    // A broken read of roles.ts would pass the next test vacuously.
    for (const name of ['getTenant', 'enroll', 'getDevice', 'getManagedDevice', 'applySyncOutcome', 'queryCollection', 'getOrCreateSecret', 'migrate', 'close']) {
      assert.ok(methods.includes(name), name);
    }
  });

  it('is a function of a fresh store, bound (callable detached)', async () => {
    const store = await openStore(`sqlite:${path.join(dir, 'fresh.sqlite')}`);
    try {
      const missing = methods.filter((name) => typeof Reflect.get(store, name) !== 'function');
      assert.deepEqual(missing, []);
      await store.migrate();
      const { getTenant, getConfigurationVersion } = store;
      assert.equal(await getTenant('nobody'), undefined);
      assert.equal(await getConfigurationVersion('nobody'), 0);
    } finally {
      await store.close();
    }
  });
});
