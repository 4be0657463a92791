import { GraphError, isUnder } from '../../api/graph.ts';

/**
 * The server's message for one field: its detail when it is about the field itself, and with the rest of the JSON path
 * when it is about a part of it (`protectedApps[1].publisherName: ...` shows at Protected apps as
 * `Protected app 2, publisherName: ...`).
 */
export function messageAt(error: unknown, field: string, item = 'item'): string | undefined {
  if (!(error instanceof GraphError) || error.path === undefined || !isUnder(error.path, field)) return undefined;
  const rest = error.path.slice(field.length);
  return rest === '' ? error.detail : `${describeRest(rest, item)}: ${error.detail}`;
}

/** `[1].publisherName` as `Protected app 2, publisherName`: people count from one. */
function describeRest(rest: string, item: string): string {
  return rest
    .replace(/\[(\d+)\]/g, (_, index: string) => ` ${item} ${Number(index) + 1},`)
    .replace(/^\./, '')
    .replace(/\./g, ' ')
    .replace(/,\s*$/, '')
    .replace(/,\s+/g, ', ')
    .trim();
}
