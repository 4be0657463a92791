import { readFile, stat } from 'node:fs/promises';

/**
 * The gateway's own credential for OpenMAM: an app token with the app role `OpenMAM.Gateway`. From a file, re-read
 * when the file changes (a token renewer rewrites it before expiry), or a fixed value (`OPENMAM_GATEWAY_TOKEN`).
 */
export interface TokenSource {
  /** The current token. Rejects when there is none (missing or empty file). */
  get(): Promise<string>;
  /** Looks at the file now, whatever the last check (after OpenMAM refused the token). */
  refresh(): Promise<string>;
}

export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
}

export function fixedToken(token: string): TokenSource {
  const value = token.trim();
  const get = async (): Promise<string> => {
    if (value === '') throw new CredentialUnavailableError('the gateway token is empty');
    return value;
  };
  return { get, refresh: get };
}

/**
 * A token kept in a file. The file is looked at (one `stat`) at most every `checkEveryMs` and read again only when
 * its modification time, size or inode changed, so a rewritten (or atomically replaced) file is picked up within a
 * second without reading it for every request.
 */
export function fileToken(file: string, options: { checkEveryMs?: number; now?: () => number } = {}): TokenSource {
  const checkEveryMs = options.checkEveryMs ?? 1000;
  const now = options.now ?? Date.now;
  let cached: { token: string; signature: string } | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<string> | undefined;

  const load = async (): Promise<string> => {
    let signature: string;
    try {
      const info = await stat(file);
      signature = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (error) {
      cached = undefined;
      throw new CredentialUnavailableError(`gateway token file ${file}: ${(error as Error).message}`, { cause: error });
    }
    checkedAt = now();
    if (cached?.signature !== signature) {
      const token = (await readFile(file, 'utf8')).trim();
      if (token === '') throw new CredentialUnavailableError(`gateway token file ${file} is empty`);
      cached = { token, signature };
    }
    return cached.token;
  };
  const check = (): Promise<string> => {
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  return {
    get: () => (cached !== undefined && now() - checkedAt < checkEveryMs ? Promise.resolve(cached.token) : check()),
    refresh: check,
  };
}
