import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installation's root folder: the nearest folder above this file that holds a package.json. It is found rather
 * than written as a fixed `../` so that one answer holds whether the sources run (src/, under tsx) or the compiled
 * build does (dist/src/, `tsconfig.build.json`), which sits one folder deeper. dist/ holds no package.json of its own.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let folder = start; ; folder = path.dirname(folder)) {
    if (existsSync(path.join(folder, 'package.json'))) return folder;
    if (path.dirname(folder) === folder) throw new Error(`no package.json above ${start}`);
  }
}
