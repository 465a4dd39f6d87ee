import { useInfiniteQuery, type InfiniteData, type QueryKey, type UseInfiniteQueryResult } from '@tanstack/react-query';
import { DataTable, type DataTableProps } from './DataTable.js';
import { ErrorNotice, Loading } from './ui.js';

/** A page of a list the control plane answers by cursor; `nextCursor` is null on the last page. */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

export type PagedQuery<T> = UseInfiniteQueryResult<InfiniteData<CursorPage<T>>>;

/**
 * A list read page by page. With `refreshMs`, the first page is fetched again at that interval
 * while it is the only one on screen: new rows show up, and nothing moves under someone who has
 * loaded older pages to read them.
 */
export function usePagedQuery<T>(
  queryKey: QueryKey,
  fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>,
  { refreshMs }: { refreshMs?: number } = {},
): PagedQuery<T> {
  return useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    refetchInterval: (q) => (refreshMs !== undefined && (q.state.data?.pages.length ?? 0) <= 1 ? refreshMs : false),
  });
}

/** The rows of a paged list as a table, with its loading and error states and a button for the next page. */
export function PagedTable<T>({
  pages,
  what,
  moreLabel,
  ...table
}: {
  pages: PagedQuery<T>;
  /** Completes "Could not …" when a page fails to load. */
  what: string;
  moreLabel: string;
} & Omit<DataTableProps<T>, 'rows' | 'footer'>) {
  if (pages.error) return <ErrorNotice error={pages.error} what={what} onRetry={() => void pages.refetch()} />;
  if (!pages.data) return <Loading />;
  return (
    <DataTable<T>
      {...table}
      rows={pages.data.pages.flatMap((p) => p.items)}
      footer={
        pages.hasNextPage && (
          <button
            type="button"
            className="button"
            onClick={() => void pages.fetchNextPage()}
            disabled={pages.isFetchingNextPage}
          >
            {pages.isFetchingNextPage ? 'Loading…' : moreLabel}
          </button>
        )
      }
    />
  );
}
