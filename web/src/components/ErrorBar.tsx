import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { GraphError } from '../api/graph.ts';

/** A failed call shown as Graph told it: code, message and the request id an admin quotes to support. */
export function ErrorBar({ error, shownFields = [] }: { error: unknown; shownFields?: readonly string[] }) {
  if (!error) return null;
  if (error instanceof GraphError && error.field !== undefined && shownFields.includes(error.field)) return null;
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
  if (error.status === 409 || error.status === 412) return 'Changed by someone else: reload and try again';
  return error.code;
}

/** The server's message for one form field, for Fluent's `Field validationMessage`. */
export function fieldMessage(error: unknown, field: string): string | undefined {
  return error instanceof GraphError && error.field === field ? error.detail : undefined;
}
