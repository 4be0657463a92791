import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { GraphError, isUnder } from '../api/graph.ts';

/**
 * A failed call shown as Graph told it: code, message and the request id an admin quotes to support. `shownFields`:
 * the paths a form shows at their fields (fieldMessage), whose refusals are not repeated here.
 */
export function ErrorBar({ error, shownFields = [] }: { error: unknown; shownFields?: readonly string[] }) {
  if (!error) return null;
  if (fieldMessage(error, ...shownFields) !== undefined) return null;
  const title = error instanceof GraphError ? titleOf(error) : 'Something went wrong';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{title}</MessageBarTitle>
        {message}
        {error instanceof GraphError && error.requestId ? ` (request id ${error.requestId})` : null}
      </MessageBarBody>
    </MessageBar>
  );
}

function titleOf(error: GraphError): string {
  if (error.status === 401) return 'Your sign-in has expired';
  if (error.status === 403) return 'Your role does not allow this';
  if (error.status === 404) return 'Not found';
  // 412: the ETag sent is stale. A 409 is a clash with the state of something else (still in use, already exists).
  if (error.status === 412) return 'Changed by someone else: reload and try again';
  if (error.status === 409) return 'Conflict';
  return error.code;
}

/** The server's message for the field at one of `paths` or inside it, for Fluent's `Field validationMessage`. */
export function fieldMessage(error: unknown, ...paths: readonly string[]): string | undefined {
  if (!(error instanceof GraphError) || error.path === undefined) return undefined;
  const refused = error.path;
  return paths.some((p) => isUnder(refused, p)) ? error.detail : undefined;
}
