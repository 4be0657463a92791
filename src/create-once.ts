import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Files that several processes may create at the same moment (nodes starting together on one shared data folder:
 * the identity provider's signing key, the self-signed certificate and its key). The rule: a final file is created
 * once, complete, and never replaced. The content goes to a temporary file in the same folder, is flushed to disk,
 * and is then hard-linked to the final name: link() fails with EEXIST when another process won, and never overwrites
 * (rename() would: the last writer would win while the first already serves its own key). Readers therefore only
 * ever see complete files, and every process ends up with the winner's content.
 */

export interface CreatedOnce {
  /** The final file's content: ours when `created`, else the winner's. */
  content: string;
  /** Whether this call created the final file. */
  created: boolean;
}

/** The file's content, or undefined when it does not exist. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `file` with `content` (and `mode`) unless it exists; answers what the file holds afterwards. Missing
 * folders are created private (0700): these files live in the data folder.
 */
export async function createFileOnce(file: string, content: string, mode: number): Promise<CreatedOnce> {
  const folder = path.dirname(file);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // A name of its own per call (not per process: several runtimes may share one process, as tests do).
  const temporary = path.join(folder, `.${path.basename(file)}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(content, 'utf8');
      // On disk before it gets its final name: a crash must not leave a linked but empty file.
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporary, file);
      return { content, created: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { content: await readFile(file, 'utf8'), created: false };
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
