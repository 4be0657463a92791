import { describe, it } from 'node:test';

/**
 * node:test's `describe` for a suite that may be skipped (no PostgreSQL, no Chromium): skipped, it is reported as one
 * skipped test with its name and reason. node:test's summary counts skipped tests, not suites, so a skipped
 * `describe` left no trace in "# skipped": a run without PostgreSQL looked as complete as one with it. Whether a
 * suite may skip at all is its reason's business: under CI the reasons throw instead (support/postgres.ts,
 * console/browser.ts).
 */
export function skippableSuite(name: string, options: { skip?: string | boolean | undefined }, fn: () => void): void {
  if (options.skip === undefined || options.skip === false) describe(name, fn);
  else it(name, { skip: options.skip }, () => undefined);
}
