import {
  Button, Input, Label, makeStyles, Select, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens,
} from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { graphGet, query, type GraphCollection } from '../api/graph.ts';
import { ErrorBar } from './ErrorBar.tsx';

/**
 * A server-paged, server-sorted, server-filtered list of a Graph collection: each page is one request with `$top`,
 * `$orderby` and `$filter` (docs/graph.md), the next one follows `@odata.nextLink` (a keyset page on the server, so
 * page 1,000 costs what page 1 does), and the way back is the links already followed. Nothing is sorted or filtered
 * in the browser: what the admin sees is what the API answers for that query.
 */
export interface Column<T> {
  id: string;
  title: string;
  render: (item: T) => ReactNode;
  /** The Graph property `$orderby` sorts by; without one the column is not sortable. */
  sortBy?: string;
}

export interface TableFilter {
  id: string;
  label: string;
  /** A choice list (native select) or free text (applied on Enter). */
  options?: readonly { value: string; label: string }[];
  /** A date picker (`YYYY-MM-DD`, applied when picked) instead of free text. */
  date?: boolean;
  placeholder?: string;
  /** The `$filter` clause for a chosen or typed value. */
  toOData: (value: string) => string;
}

export interface Sort {
  by: string;
  direction: 'asc' | 'desc';
}

const useStyles = makeStyles({
  toolbar: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'end', marginBottom: tokens.spacingVerticalM },
  filter: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: '180px' },
  pager: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', marginTop: tokens.spacingVerticalM },
  table: { tableLayout: 'auto' },
});

export function PagedTable<T>({ label, path, columns, rowKey, filters = [], select, baseFilter, expand, defaultSort, pageSize = 25, count = false, empty }: {
  /** The table's accessible name. */
  label: string;
  /** The collection, e.g. `/deviceAppManagement/managedAppRegistrations`. */
  path: string;
  columns: readonly Column<T>[];
  rowKey: (item: T) => string;
  filters?: readonly TableFilter[];
  select?: readonly string[];
  /** A clause always applied (and-ed with the admin's filters). */
  baseFilter?: string;
  expand?: string;
  defaultSort?: Sort;
  pageSize?: number;
  /** Ask for `@odata.count` (only on collections that declare `$count`). */
  count?: boolean;
  empty?: ReactNode;
}) {
  const styles = useStyles();
  const [sort, setSort] = useState<Sort | undefined>(defaultSort);
  const [values, setValues] = useState<Record<string, string>>({});
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const filter = useMemo(() => {
    const clauses = filters.filter((f) => (values[f.id] ?? '') !== '').map((f) => f.toOData(values[f.id]!));
    if (baseFilter) clauses.unshift(baseFilter);
    return clauses.length === 0 ? undefined : clauses.map((c) => (clauses.length > 1 ? `(${c})` : c)).join(' and ');
  }, [filters, values, baseFilter]);
  const first = `${path}${query({ $top: pageSize, $orderby: sort ? `${sort.by} ${sort.direction}` : undefined, $filter: filter, $select: select?.join(','), $expand: expand, $count: count ? 'true' : undefined })}`;
  // The links followed so far: the last one is the page shown.
  const [links, setLinks] = useState<string[]>([first]);
  useEffect(() => setLinks([first]), [first]);
  const current = links[links.length - 1] ?? first;
  const page = useQuery({ queryKey: ['graph', current], queryFn: ({ signal }) => graphGet<GraphCollection<T>>(current, signal), placeholderData: (previous) => previous });
  const total = page.data?.['@odata.count'];

  const toggleSort = (by: string) => setSort((was) => (was?.by === by ? { by, direction: was.direction === 'asc' ? 'desc' : 'asc' } : { by, direction: 'asc' }));
  const apply = (id: string, value: string) => setValues((was) => ({ ...was, [id]: value.trim() }));

  return (
    <section aria-label={label}>
      {filters.length > 0 ? (
        <div className={styles.toolbar} role="search" aria-label={`Filter ${label}`}>
          {filters.map((f) => (
            <FilterControl key={f.id} filter={f} className={styles.filter} value={f.options || f.date ? values[f.id] ?? '' : drafts[f.id] ?? ''}
              onChange={(value) => (f.options || f.date ? apply(f.id, value) : setDrafts((was) => ({ ...was, [f.id]: value })))}
              onCommit={() => apply(f.id, drafts[f.id] ?? '')} />
          ))}
        </div>
      ) : null}
      <ErrorBar error={page.error} />
      <Table aria-label={label} sortable={columns.some((c) => c.sortBy)} className={styles.table} size="small">
        <TableHeader>
          <TableRow>
            {columns.map((column) =>
              column.sortBy ? (
                <TableHeaderCell key={column.id} sortable sortDirection={sort?.by === column.sortBy ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined}
                  onClick={() => toggleSort(column.sortBy!)} aria-sort={sort?.by === column.sortBy ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
                  {column.title}
                </TableHeaderCell>
              ) : (
                <TableHeaderCell key={column.id}>{column.title}</TableHeaderCell>
              ),
            )}
          </TableRow>
        </TableHeader>
        <TableBody>
          {(page.data?.value ?? []).map((item) => (
            <TableRow key={rowKey(item)}>
              {columns.map((column) => (
                <TableCell key={column.id}>{column.render(item)}</TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {page.isPending ? <Spinner size="small" label="Loading" /> : null}
      {page.data && page.data.value.length === 0 ? <Text role="status">{empty ?? 'Nothing to show.'}</Text> : null}
      <nav className={styles.pager} aria-label={`${label} pages`}>
        <Button size="small" disabled={links.length <= 1} onClick={() => setLinks((was) => was.slice(0, -1))}>Previous page</Button>
        <Text aria-live="polite">Page {links.length}{total !== undefined ? ` · ${total.toLocaleString()} in all` : ''}</Text>
        <Button size="small" disabled={!page.data?.['@odata.nextLink'] || page.isFetching} onClick={() => setLinks((was) => [...was, page.data!['@odata.nextLink']!])}>Next page</Button>
      </nav>
    </section>
  );
}

function FilterControl({ filter, className, value, onChange, onCommit }: { filter: TableFilter; className: string; value: string; onChange: (value: string) => void; onCommit: () => void }) {
  const id = useId();
  return (
    <div className={className}>
      <Label htmlFor={id}>{filter.label}</Label>
      {filter.options ? (
        <Select id={id} value={value} onChange={(_, data) => onChange(data.value)}>
          <option value="">Any</option>
          {filter.options.map((o) => (
            <option key={o.value} value={o.value}>{o.label}</option>
          ))}
        </Select>
      ) : filter.date ? (
        <Input id={id} type="date" value={value} onChange={(_, data) => onChange(data.value)} />
      ) : (
        <Input id={id} value={value} placeholder={filter.placeholder ?? 'Press Enter to apply'} onChange={(_, data) => onChange(data.value)}
          onKeyDown={(event) => { if (event.key === 'Enter') onCommit(); }} onBlur={onCommit} />
      )}
    </div>
  );
}
