import { GraphError } from '../../api/graph.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';

/**
 * Where a refusal points, for the forms of the tenant areas (groups, tenant settings, connectors, conditional
 * access). The models' messages start with the JSON path (`pollSchedule.intervalForRemainingScheduledRetries: ...`,
 * which GraphError reads); a route's schema words it `body/displayName must NOT have fewer than 1 characters`
 * (docs/graph.md, "Errors"), which it does not, so both are read here.
 */
export function refusal(error: unknown): { path: string; detail: string } | undefined {
  if (!(error instanceof GraphError) || (error.status !== 400 && error.status !== 409)) return undefined;
  if (error.path !== undefined) return { path: error.path, detail: error.detail };
  const schema = /^body\/(\S+) ([\s\S]*)$/.exec(error.message);
  return schema ? { path: schema[1]!.replace(/\//g, '.'), detail: schema[2]! } : undefined;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** The server's message for the field at one of `paths` or below it, for Fluent's `Field validationMessage`. */
export function messageAt(error: unknown, ...paths: readonly string[]): string | undefined {
  const refused = refusal(error);
  return refused !== undefined && paths.some((p) => under(refused.path, p)) ? refused.detail : undefined;
}

/** A failed write that no field of the form shows (`paths`: every path the form's fields show). */
export function FormError({ error, paths }: { error: unknown; paths: readonly string[] }) {
  const refused = refusal(error);
  if (refused !== undefined && paths.some((p) => under(refused.path, p))) return null;
  return <ErrorBar error={error} />;
}

/** Lines of a textarea as a list: trimmed, blank lines dropped (the server judges the rest). */
export function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}
