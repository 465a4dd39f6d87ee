import { GUARDRAIL_IDS, MASK_STYLES } from '@portcullis/policy/schema';
import { appendItem, newRule } from '../../lib/policy-draft.js';
import { fieldDomId } from '../../lib/policy-issues.js';
import {
  CheckboxField,
  ChoicesField,
  FieldGroup,
  focusField,
  ItemList,
  ListField,
  NumberField,
  SelectField,
  TextField,
  useItemKeys,
  usePolicyForm,
} from './policy-fields.js';
import { ENTITY_HINT, RuleCard } from './RuleCard.js';

/** The whole policy as a form: default action, ordered rules, then the policy-wide settings. */
export function PolicyForm() {
  const { change } = usePolicyForm();
  // Keyed by rule, not by place, so a card's open sections move with its rule.
  const keys = useItemKeys(['rules']);
  const count = keys.length;
  const addRule = () => {
    change((d) => appendItem(d, ['rules'], newRule(d)));
    focusField(fieldDomId(['rules', count, 'id']));
  };
  const addButton = (
    <button type="button" className="button button-small" onClick={addRule}>
      Add rule
    </button>
  );

  return (
    <div className="policy-form">
      <SelectField
        path={['defaultAction']}
        options={['allow', 'block']}
        unset="block (default)"
        hint="What happens to a statement or request that no rule matches."
      />
      <FieldGroup
        path={['rules']}
        title="Rules"
        hint="In order: the first rule that matches decides."
        actions={addButton}
        className="rules-group"
      >
        {count === 0 && <p className="muted">No rules: everything gets the default action.</p>}
        {keys.map((key, i) => (
          <RuleCard key={key} index={i} count={count} />
        ))}
        {count > 0 && <div className="rules-footer">{addButton}</div>}
      </FieldGroup>
      <FieldGroup path={['masking']} title="Masking defaults">
        <div className="form-row">
          <SelectField
            path={['masking', 'style']}
            options={MASK_STYLES}
            unset="redact (default)"
            hint="For rules that name no style."
          />
          <ListField
            path={['masking', 'entities']}
            hint={`Masked in every allowed response, whatever rule matched. ${ENTITY_HINT}`}
          />
        </div>
      </FieldGroup>
      <FieldGroup path={['guardrails']} title="Guardrails">
        <CheckboxField
          path={['guardrails', 'enabled']}
          fallback
          hint="Refuse destructive or escaping statements (DROP, DELETE without WHERE, COPY … PROGRAM…) whatever the rules say."
        />
        <ChoicesField path={['guardrails', 'relax']} options={GUARDRAIL_IDS} hint="Guardrails turned off." />
        <div className="form-row">
          <ListField
            path={['guardrails', 'vectorTables']}
            placeholder="documents"
            hint="Tables of embeddings, where a DELETE must name its rows by id."
          />
          <ListField path={['guardrails', 'vectorIdColumns']} placeholder="id" />
        </div>
      </FieldGroup>
      <FieldGroup path={['budgets']} title="Budgets" hint="Limits on what a statement or an identity may read.">
        <div className="form-row">
          <FieldGroup path={['budgets', 'statement']} title="Per statement" className="nested-group">
            <NumberField path={['budgets', 'statement', 'maxRows']} placeholder="no limit" />
            <NumberField path={['budgets', 'statement', 'maxBytes']} placeholder="no limit" />
          </FieldGroup>
          <FieldGroup path={['budgets', 'perIdentity']} title="Per identity" className="nested-group">
            <NumberField path={['budgets', 'perIdentity', 'rowsPerHour']} placeholder="no limit" />
            <NumberField path={['budgets', 'perIdentity', 'bytesPerHour']} placeholder="no limit" />
          </FieldGroup>
        </div>
      </FieldGroup>
      <FieldGroup
        path={['detectors']}
        title="Detectors"
        hint="How values to mask are found. The medical record number detector is set in the JSON view."
      >
        <div className="form-row">
          <TextField path={['detectors', 'region']} placeholder="US" hint="Reads national phone numbers." />
          <NumberField path={['detectors', 'minConfidence']} placeholder="0.5" hint="From 0 to 1." />
        </div>
        <ItemList
          path={['detectors', 'custom']}
          title="Custom detectors"
          addLabel="Add detector"
          newItem={{ name: '', pattern: '' }}
          focus="name"
        >
          {(row) => (
            <>
              <div className="form-row form-row-3">
                <TextField path={[...row, 'name']} required placeholder="EMPLOYEE_ID" hint="UPPER_SNAKE_CASE" />
                <TextField path={[...row, 'pattern']} required placeholder="EMP-\d{6}" hint="A regular expression" />
                <TextField path={[...row, 'flags']} placeholder="i" hint="i, m, s, u" />
              </div>
              <div className="form-row form-row-3">
                <SelectField path={[...row, 'validator']} options={['luhn', 'iban', 'ssn']} unset="None" />
                <ListField path={[...row, 'contextWords']} placeholder={'employee\nstaff'} />
                <CheckboxField path={[...row, 'requireContext']} fallback={false} />
              </div>
            </>
          )}
        </ItemList>
      </FieldGroup>
    </div>
  );
}
