import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { graphGet, graphSend } from './graph.ts';

/** One Graph resource as server state; `path` undefined waits (a dependent query). */
export function useGraph<T>(path: string | undefined, options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: ['graph', path],
    queryFn: ({ signal }) => graphGet<T>(path!, signal),
    enabled: path !== undefined,
    refetchInterval: options.refetchInterval ?? false,
  });
}

export interface GraphWrite {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  ifMatch?: string;
}

/**
 * A change through the admin API. On success every cached Graph read is marked stale, so lists, counts and the entity
 * itself show what the server now holds rather than what the form sent.
 */
export function useGraphWrite<T = unknown>() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (write: GraphWrite) => graphSend<T>(write.method, write.path, write.body, write.ifMatch ? { ifMatch: write.ifMatch } : {}),
    onSuccess: () => client.invalidateQueries({ queryKey: ['graph'] }),
  });
}
