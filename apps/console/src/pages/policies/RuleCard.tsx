import { useId, useState, type ReactNode } from 'react';
import { ACTIONS, BUILTIN_ENTITIES, MASK_STYLES, STATEMENT_KINDS } from '@portcullis/policy/schema';
import { getIn, moveItem, removeItem, setRuleAction, type DraftPath } from '../../lib/policy-draft.js';
import { fieldDomId, fieldKey, fieldLabel } from '../../lib/policy-issues.js';
import {
  BooleanField,
  ChoicesField,
  FieldGroup,
  focusField,
  InstantField,
  ItemList,
  ListField,
  NumberField,
  ScalarField,
  ScalarListField,
  SelectField,
  TextField,
  usePolicyForm,
} from './policy-fields.js';

export const ENTITY_HINT = `Built-in: ${BUILTIN_ENTITIES.join(', ')}; or the name of a custom detector.`;

/** One rule of the ordered list: what it matches, what it does, and its place in the order. */
export function RuleCard({ index, count }: { index: number; count: number }) {
  const { draft, change } = usePolicyForm();
  const path = ['rules', index] as const;
  const at = (...rest: (string | number)[]): DraftPath => [...path, ...rest];
  const title = fieldLabel(path, draft);
  const masks = getIn(draft, at('action')) === 'mask' || getIn(draft, at('mask')) !== undefined;
  const move = (to: number) => {
    change((d) => moveItem(d, ['rules'], index, to));
    focusField(fieldDomId(['rules', to]));
  };

  return (
    <FieldGroup
      path={path}
      title={title}
      className="rule-card"
      actions={
        <>
          <button
            type="button"
            className="button button-small"
            aria-label={`Move ${title} up`}
            disabled={index === 0}
            onClick={() => move(index - 1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="button button-small"
            aria-label={`Move ${title} down`}
            disabled={index === count - 1}
            onClick={() => move(index + 1)}
          >
            ↓
          </button>
          <button
            type="button"
            className="button button-small button-danger-quiet"
            aria-label={`Remove ${title}`}
            onClick={() => change((d) => removeItem(d, ['rules'], index))}
          >
            Remove
          </button>
        </>
      }
    >
      <div className="form-row">
        <TextField path={at('id')} required hint="Named in decisions, audit and previews." />
        <SelectField
          path={at('action')}
          options={ACTIONS}
          edit={(d, action) => setRuleAction(d, index, action ?? '')}
          hint="Review holds the statement until a steward approves it."
        />
      </div>
      <TextField path={at('description')} />
      <FieldGroup
        path={at('match')}
        title="Match"
        className="match-group"
        hint="A request matches when it meets every condition given; a rule with none matches everything."
      >
        <div className="form-row form-row-3">
          <ListField path={at('match', 'connections')} placeholder="demo-pg" />
          <ListField path={at('match', 'groups')} placeholder="analysts" />
          <ListField path={at('match', 'subjects')} />
        </div>
        <Conditions
          title="SQL statements"
          fields={['statementKinds', 'tables', 'columns', 'functions', 'hasWhere', 'hasLimit', 'multiStatement'].map(
            (f) => at('match', f),
          )}
        >
          <ChoicesField path={at('match', 'statementKinds')} options={STATEMENT_KINDS} />
          <div className="form-row form-row-3">
            <ListField path={at('match', 'tables')} hint='"schema.table" or "table"' placeholder="public.customers" />
            <ListField path={at('match', 'columns')} placeholder="card_number" />
            <ListField path={at('match', 'functions')} placeholder="pg_sleep" />
          </div>
          <div className="form-row form-row-3">
            <BooleanField path={at('match', 'hasWhere')} />
            <BooleanField path={at('match', 'hasLimit')} />
            <BooleanField path={at('match', 'multiStatement')} />
          </div>
        </Conditions>
        <Conditions
          title="HTTP requests"
          fields={['httpMethods', 'httpPaths', 'keywords', 'httpBody'].map((f) => at('match', f))}
        >
          <div className="form-row">
            <ListField path={at('match', 'httpMethods')} hint="Upper case, one per line" placeholder={'GET\nPOST'} />
            <ListField
              path={at('match', 'httpPaths')}
              hint='Globs after the connection prefix: "*" within a segment, "**" across'
              placeholder="/v1/chat/**"
            />
          </div>
          <ListField
            path={at('match', 'keywords')}
            hint="Words or phrases in the body's string values, one per line, any case; any one matches."
            placeholder={'drop table\ntruncate'}
          />
          <ItemList
            path={at('match', 'httpBody')}
            title="Body conditions"
            hint="All must hold. Each tests the values a JSON path selects."
            addLabel="Add body condition"
            newItem={{ path: '', exists: true }}
            focus="path"
          >
            {(row) => (
              <>
                <div className="form-row">
                  <TextField path={[...row, 'path']} required placeholder="$.model" hint="$, .name, [n], [*], ..name" />
                  <BooleanField path={[...row, 'exists']} hint="Alone: whether the path selects anything." />
                </div>
                <div className="form-row form-row-3">
                  <ScalarField path={[...row, 'equals']} placeholder="gpt-4" />
                  <ScalarListField path={[...row, 'in']} placeholder={'gpt-4\ngpt-4o'} />
                  <TextField path={[...row, 'matches']} placeholder="^ignore previous" hint="A regular expression" />
                </div>
                <div className="form-row form-row-3">
                  <TextField path={[...row, 'flags']} placeholder="i" hint="With Matches: i, m, s, u" />
                  <NumberField path={[...row, 'gt']} />
                  <NumberField path={[...row, 'lt']} />
                </div>
              </>
            )}
          </ItemList>
        </Conditions>
        <Conditions title="Time window" fields={[at('match', 'notBefore'), at('match', 'notAfter')]}>
          <div className="form-row">
            <InstantField path={at('match', 'notBefore')} />
            <InstantField path={at('match', 'notAfter')} />
          </div>
        </Conditions>
      </FieldGroup>
      {masks && (
        <FieldGroup path={at('mask')} title="Masking" className="mask-group">
          <div className="form-row">
            <ListField path={at('mask', 'entities')} hint={ENTITY_HINT} placeholder={'CREDIT_CARD\nEMAIL'} />
            <SelectField path={at('mask', 'style')} options={MASK_STYLES} unset="Policy default" />
          </div>
          <ColumnMasks path={at('mask', 'columns')} />
        </FieldGroup>
      )}
      <TextField path={at('reason')} hint="Shown to the client when the rule blocks, and to the steward on review." />
    </FieldGroup>
  );
}

/** Columns masked whatever their content, each with its own style. */
function ColumnMasks({ path }: { path: DraftPath }) {
  return (
    <ItemList
      path={path}
      title="Column masks"
      addLabel="Add column mask"
      newItem={{ column: '', style: 'redact' }}
      focus="column"
    >
      {(row) => (
        <div className="form-row form-row-3">
          <TextField path={[...row, 'table']} placeholder="any table" />
          <TextField path={[...row, 'column']} required />
          <SelectField path={[...row, 'style']} options={MASK_STYLES} />
        </div>
      )}
    </ItemList>
  );
}

/**
 * Conditions of one kind, folded away until asked for. Open whenever one of them is set or has a
 * problem, and stays open once opened, so clearing a field does not hide it while it is typed in.
 */
function Conditions({ title, fields, children }: { title: string; fields: DraftPath[]; children: ReactNode }) {
  const { draft, problems } = usePolicyForm();
  const used = fields.some((f) => getIn(draft, f) !== undefined || problems.has(fieldKey(f)));
  const [open, setOpen] = useState(used);
  if (used && !open) setOpen(true);
  const id = useId();
  return (
    <div className="conditions">
      <button
        type="button"
        className="conditions-toggle"
        aria-expanded={open}
        aria-controls={id}
        disabled={used}
        title={used ? 'Shown while any of these conditions is set' : undefined}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden>{open ? '▾' : '▸'}</span> {title}
      </button>
      {open && <div id={id}>{children}</div>}
    </div>
  );
}
