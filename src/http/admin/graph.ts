/** Collection envelopes of the admin API; the rest of what routes share is the Graph layer (http/graph/). */
export { GraphError, type AdminCaller } from '../graph/graph-api.ts';

export function collection(context: string, value: unknown[]): Record<string, unknown> {
  return { '@odata.context': context, value };
}
