// Browser-safe entry (`@portcullis/policy/schema`): the policy schema and the names it accepts,
// without the SQL parser (libpg-query WASM) or node:crypto that the main entry brings along, so
// the console can validate a draft with the very schema the control plane uses.
export * from './policy/schema.js';
export { BUILTIN_ENTITIES, MASK_STYLES, type BuiltinEntity, type MaskStyle } from './entities.js';
export { STATEMENT_KINDS, type StatementKind } from './sql/kinds.js';
export { GUARDRAIL_IDS, type GuardrailId } from './decide/guardrails.js';
