import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { normaliseSnapshot, type MamSnapshot, type MamStorage } from './storage.ts';

/**
 * The snapshot in one JSON file, written atomically (a temporary file renamed over the old one) and readable by the
 * user only. Keep it in the app's per-user data folder. An unreadable or foreign file counts as no snapshot.
 * Node-only, hence its own entry point: `@openmam/client/json-file-storage`.
 */
export class JsonFileStorage implements MamStorage {
  private readonly file: string;

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  async load(): Promise<MamSnapshot | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return normaliseSnapshot(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async save(snapshot: MamSnapshot): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
