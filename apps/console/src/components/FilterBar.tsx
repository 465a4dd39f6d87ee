import { fromLocalInput, toLocalInput } from '../lib/datetime.js';
import { Field } from './ui.js';
import type { UrlFilters } from './use-url-filters.js';

export interface FilterInput<K extends string> {
  key: K;
  label: string;
  placeholder?: string;
  /** An instant: picked in the browser's time zone, kept in the URL as ISO time. */
  instant?: boolean;
}

/** The filter form above a list: one input per filter, applied to the URL on submit. */
export function FilterBar<K extends string>({
  filters,
  inputs,
  submitLabel,
}: {
  filters: UrlFilters<K>;
  inputs: readonly FilterInput<K>[];
  submitLabel: string;
}) {
  const { draft, edit, apply, clear, active } = filters;
  return (
    <form className="filters" onSubmit={apply}>
      {inputs.map(({ key, label, placeholder, instant }) => (
        <Field key={key} label={label}>
          {instant ? (
            <input
              type="datetime-local"
              value={toLocalInput(draft[key])}
              onChange={(e) => edit(key, fromLocalInput(e.target.value))}
            />
          ) : (
            <input value={draft[key]} onChange={(e) => edit(key, e.target.value)} placeholder={placeholder} />
          )}
        </Field>
      ))}
      <div className="filters-actions">
        <button type="submit" className="button button-primary">
          {submitLabel}
        </button>
        {active && (
          <button type="button" className="button" onClick={clear}>
            Clear
          </button>
        )}
      </div>
    </form>
  );
}
