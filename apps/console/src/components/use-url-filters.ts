import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';

/**
 * Filters kept in the URL's query string, so every filtered view has a stable, shareable address.
 * The form edits a draft; `apply` writes it to the URL, which is what the page queries with.
 */
export function useUrlFilters<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
  const [draft, setDraft] = useState(filters);
  const write = (values: Record<K, string>) => {
    const next = new URLSearchParams();
    for (const k of keys) if (values[k].trim()) next.set(k, values[k].trim());
    setParams(next);
  };
  return {
    filters,
    draft,
    /** Changes one field of the draft. */
    edit: (key: K, value: string) => setDraft((d) => ({ ...d, [key]: value })),
    apply: (e?: FormEvent) => {
      e?.preventDefault();
      write(draft);
    },
    clear: () => {
      const empty = Object.fromEntries(keys.map((k) => [k, ''])) as Record<K, string>;
      setDraft(empty);
      write(empty);
    },
    active: keys.some((k) => filters[k] !== ''),
  };
}

export type UrlFilters<K extends string> = ReturnType<typeof useUrlFilters<K>>;
