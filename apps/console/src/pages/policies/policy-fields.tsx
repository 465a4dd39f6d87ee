import { createContext, useContext, useId, useState, type ReactNode } from 'react';
import { Field, FieldNote, noteProps } from '../../components/ui.js';
import { fromLocalInput, toLocalInput } from '../../lib/datetime.js';
import { carryKeys, firstKeys } from '../../lib/item-keys.js';
import {
  appendItem,
  formatList,
  formatScalar,
  formatScalarList,
  formatValue,
  getIn,
  parseList,
  parseNumber,
  parseScalar,
  parseScalarList,
  removeItem,
  sameDocument,
  setIn,
  type DraftPath,
  type PolicyDraft,
} from '../../lib/policy-draft.js';
import { fieldDomId, fieldKey, fieldLabel } from '../../lib/policy-issues.js';

/*
 * Controls of the structured policy editor. Each is bound to a path of the draft document: it
 * reads its value there, writes it back through `change`, and shows the problems placed on that
 * path (lib/policy-issues.ts) next to itself, with the label and DOM id the summary links to.
 */

interface PolicyForm {
  draft: PolicyDraft;
  /** Messages by fieldKey. */
  problems: ReadonlyMap<string, string[]>;
  change: (edit: (draft: PolicyDraft) => PolicyDraft) => void;
}

const PolicyFormContext = createContext<PolicyForm | null>(null);

export function PolicyFormProvider({ value, children }: { value: PolicyForm; children: ReactNode }) {
  return <PolicyFormContext.Provider value={value}>{children}</PolicyFormContext.Provider>;
}

export function usePolicyForm(): PolicyForm {
  const form = useContext(PolicyFormContext);
  if (!form) throw new Error('PolicyFormProvider is missing');
  return form;
}

function useField(path: DraftPath) {
  const form = usePolicyForm();
  return {
    value: getIn(form.draft, path),
    set: (value: unknown) => form.change((d) => setIn(d, path, value)),
    problems: form.problems.get(fieldKey(path)) ?? [],
    id: fieldDomId(path),
    label: fieldLabel(path),
  };
}

/** Moves focus to a field once the edit that shows it has rendered. */
export function focusField(id: string): void {
  requestAnimationFrame(() => {
    const element = document.getElementById(id);
    element?.focus();
    element?.scrollIntoView({ block: 'center' });
  });
}

const NO_ITEMS: readonly unknown[] = [];

/**
 * React keys for the items of the list at `path` (lib/item-keys.ts): a row's own state follows its
 * item when items move or go, and the keys never enter the draft.
 */
export function useItemKeys(path: DraftPath): readonly number[] {
  const { draft } = usePolicyForm();
  const found = getIn(draft, path);
  const items = Array.isArray(found) ? found : NO_ITEMS;
  const [known, setKnown] = useState(() => firstKeys(items));
  if (known.items === items) return known.keys;
  // Adjusted while rendering, as React advises for state derived from a previous render.
  const next = carryKeys(known, items);
  setKnown(next);
  return next.keys;
}

/**
 * The text of a control whose text is not its value ("GET\n" is the list ["GET"]): kept while it
 * still reads as the draft's value, replaced when the draft changed elsewhere (JSON view, reorder).
 */
function useTypedText(value: unknown, format: (v: unknown) => string, parse: (text: string) => unknown) {
  const [text, setText] = useState(() => format(value));
  if (!sameDocument(parse(text), value) && text !== format(value)) setText(format(value));
  return [text, setText] as const;
}

export function TextField({
  path,
  hint,
  placeholder,
  required,
}: {
  path: DraftPath;
  hint?: ReactNode;
  placeholder?: string;
  /** Kept as "" when cleared (the schema then says it is needed) instead of removed. */
  required?: boolean;
}) {
  const f = useField(path);
  return (
    <Field id={f.id} label={f.label} hint={hint} problems={f.problems}>
      <input
        value={formatValue(f.value)}
        placeholder={placeholder}
        onChange={(e) => f.set(e.target.value === '' && !required ? undefined : e.target.value)}
      />
    </Field>
  );
}

/** A field whose text is read into its value by `parse` (a list, a number…). */
function TypedTextField({
  path,
  format,
  parse,
  hint,
  placeholder,
  numeric,
  lines,
}: {
  path: DraftPath;
  format: (value: unknown) => string;
  parse: (text: string) => unknown;
  hint?: ReactNode;
  placeholder?: string;
  numeric?: boolean;
  /** A list, one item a line, in a textarea. */
  lines?: boolean;
}) {
  const f = useField(path);
  const [text, setText] = useTypedText(f.value, format, parse);
  const onChange = (e: { target: { value: string } }) => {
    setText(e.target.value);
    f.set(parse(e.target.value));
  };
  return (
    <Field id={f.id} label={f.label} hint={hint} problems={f.problems}>
      {lines ? (
        <textarea
          className="list-input"
          rows={Math.min(Math.max(text.split('\n').length, 2), 8)}
          value={text}
          placeholder={placeholder}
          onChange={onChange}
        />
      ) : (
        <input inputMode={numeric ? 'decimal' : undefined} value={text} placeholder={placeholder} onChange={onChange} />
      )}
    </Field>
  );
}

type TypedProps = { path: DraftPath; hint?: ReactNode; placeholder?: string };

/** A list of names, typed one a line (so a name may hold a comma). */
export const ListField = ({ hint = 'One per line', ...props }: TypedProps) => (
  <TypedTextField {...props} lines hint={hint} format={formatList} parse={parseList} />
);

export const NumberField = (props: TypedProps) => (
  <TypedTextField {...props} numeric format={formatValue} parse={parseNumber} />
);

/** A JSON scalar: a number, true, false or null as such, other text as a string. */
export const ScalarField = (props: TypedProps) => (
  <TypedTextField {...props} format={formatScalar} parse={parseScalar} />
);

export const ScalarListField = ({ hint = 'One per line', ...props }: TypedProps) => (
  <TypedTextField {...props} lines hint={hint} format={formatScalarList} parse={parseScalarList} />
);

/**
 * One of `options`. `unset` names the choice of leaving the field out (the schema's default). A
 * value that is none of the options (typed in the JSON view) is shown as it is, so its problem
 * has something to point at.
 */
export function SelectField({
  path,
  options,
  unset,
  hint,
  edit,
}: {
  path: DraftPath;
  options: readonly string[];
  unset?: string;
  hint?: ReactNode;
  /** Replaces the plain write, for a choice that changes more than its field. */
  edit?: (draft: PolicyDraft, value: string | undefined) => PolicyDraft;
}) {
  const f = useField(path);
  const form = usePolicyForm();
  const current = formatValue(f.value);
  const listed = options.includes(current) || (current === '' && unset !== undefined);
  const choose = (value: string | undefined) => (edit ? form.change((d) => edit(d, value)) : f.set(value));
  return (
    <Field id={f.id} label={f.label} hint={hint} problems={f.problems}>
      <select value={current} onChange={(e) => choose(e.target.value === '' ? undefined : e.target.value)}>
        {unset !== undefined && <option value="">{unset}</option>}
        {!listed && <option value={current}>{current || 'Choose…'}</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Field>
  );
}

const BOOLEAN_CHOICES = { '': 'Either', true: 'Yes', false: 'No' } as const;

/** A condition that is true, false or not asked. */
export function BooleanField({ path, hint }: { path: DraftPath; hint?: ReactNode }) {
  const f = useField(path);
  const current = formatValue(f.value);
  return (
    <Field id={f.id} label={f.label} hint={hint} problems={f.problems}>
      <select value={current} onChange={(e) => f.set(e.target.value === '' ? undefined : e.target.value === 'true')}>
        {!(current in BOOLEAN_CHOICES) && <option value={current}>{current}</option>}
        {Object.entries(BOOLEAN_CHOICES).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** A setting that is on or off; `fallback` is what leaving it out means. */
export function CheckboxField({ path, fallback, hint }: { path: DraftPath; fallback: boolean; hint?: ReactNode }) {
  const f = useField(path);
  const noteId = `${f.id}-note`;
  const invalid = f.problems.length > 0;
  return (
    <div className={`field field-check ${invalid ? 'field-invalid' : ''}`}>
      <label>
        <input
          type="checkbox"
          id={f.id}
          checked={f.value === undefined ? fallback : f.value === true}
          onChange={(e) => f.set(e.target.checked)}
          {...noteProps(noteId, f.problems, hint)}
        />{' '}
        {f.label}
      </label>
      <FieldNote id={noteId} problems={f.problems} hint={hint} />
    </div>
  );
}

/** Some of a closed set of names, as checkboxes; names outside the set stay listed so they can be unticked. */
export function ChoicesField({
  path,
  options,
  hint,
}: {
  path: DraftPath;
  options: readonly string[];
  hint?: ReactNode;
}) {
  const f = useField(path);
  const noteId = `${f.id}-note`;
  const note = noteProps(noteId, f.problems, hint);
  const chosen = Array.isArray(f.value) ? f.value.map(formatValue) : [];
  const shown = [...options, ...chosen.filter((c) => !options.includes(c))];
  const toggle = (name: string, on: boolean) => {
    const next = shown.filter((n) => (n === name ? on : chosen.includes(n)));
    f.set(next.length > 0 ? next : undefined);
  };
  return (
    <fieldset
      id={f.id}
      tabIndex={-1}
      className={`field choices ${f.problems.length > 0 ? 'field-invalid' : ''}`}
      aria-describedby={note['aria-describedby']}
    >
      <legend className="field-label">{f.label}</legend>
      <div className="choices-grid">
        {shown.map((name) => (
          <label key={name} className={options.includes(name) ? undefined : 'choice-unknown'}>
            <input
              type="checkbox"
              checked={chosen.includes(name)}
              onChange={(e) => toggle(name, e.target.checked)}
              aria-invalid={note['aria-invalid']}
            />{' '}
            {name}
          </label>
        ))}
      </div>
      <FieldNote id={noteId} problems={f.problems} hint={hint} />
    </fieldset>
  );
}

/** An ISO 8601 instant, picked in the browser's time zone. */
export function InstantField({ path, hint }: { path: DraftPath; hint?: ReactNode }) {
  const f = useField(path);
  return (
    <Field id={f.id} label={f.label} hint={hint} problems={f.problems}>
      <input
        type="datetime-local"
        value={toLocalInput(formatValue(f.value))}
        onChange={(e) => f.set(fromLocalInput(e.target.value) || undefined)}
      />
    </Field>
  );
}

/**
 * A titled part of the form (a rule, the guardrails…): the place of problems that belong to the
 * part as a whole, such as an unknown key, and what the summary focuses for them.
 */
export function FieldGroup({
  path,
  title,
  hint,
  actions,
  className,
  children,
}: {
  path: DraftPath;
  title: string;
  hint?: ReactNode;
  actions?: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  const form = usePolicyForm();
  const problems = form.problems.get(fieldKey(path)) ?? [];
  const titleId = useId();
  const noteId = `${titleId}-note`;
  return (
    <div
      role="group"
      id={fieldDomId(path)}
      tabIndex={-1}
      aria-labelledby={titleId}
      aria-describedby={problems.length > 0 ? noteId : undefined}
      className={`field-group ${problems.length > 0 ? 'field-group-invalid' : ''} ${className ?? ''}`}
    >
      <div className="field-group-header">
        <h3 id={titleId}>{title}</h3>
        {actions && <div className="field-group-actions">{actions}</div>}
      </div>
      {/* Unlike a field's note, the hint stays when there are problems: it says what the part is for. */}
      <FieldNote id={noteId} problems={problems} />
      <FieldNote id={`${titleId}-hint`} problems={[]} hint={hint} />
      {children}
    </div>
  );
}

/** A list of objects (column masks, custom detectors): one group a row, rows added and removed. */
export function ItemList({
  path,
  title,
  hint,
  addLabel,
  newItem,
  focus,
  children,
}: {
  path: DraftPath;
  title: string;
  hint?: ReactNode;
  addLabel: string;
  newItem: Record<string, unknown>;
  /** The field of a new row to put the cursor in. */
  focus: string;
  children: (row: DraftPath) => ReactNode;
}) {
  const { draft, change } = usePolicyForm();
  const keys = useItemKeys(path);
  const count = keys.length;
  const add = () => {
    change((d) => appendItem(d, path, newItem));
    focusField(fieldDomId([...path, count, focus]));
  };
  return (
    <FieldGroup
      path={path}
      title={title}
      hint={hint}
      className="item-list"
      actions={
        <button type="button" className="button button-small" onClick={add}>
          {addLabel}
        </button>
      }
    >
      {keys.map((key, i) => {
        const row = [...path, i];
        const rowTitle = fieldLabel(row, draft);
        return (
          <FieldGroup
            key={key}
            path={row}
            title={rowTitle}
            className="item-row"
            actions={
              <button
                type="button"
                className="button button-small button-danger-quiet"
                aria-label={`Remove ${rowTitle}`}
                onClick={() => change((d) => removeItem(d, path, i))}
              >
                Remove
              </button>
            }
          >
            {children(row)}
          </FieldGroup>
        );
      })}
    </FieldGroup>
  );
}
