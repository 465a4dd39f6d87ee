export * from './entities.js';
export {
  createScanner,
  DEFAULT_MIN_CONFIDENCE,
  type Scanner,
  type ScannerConfig,
  type CustomDetectorConfig,
} from './detectors/scanner.js';
export {
  luhn,
  iban as isValidIban,
  ssn as isValidSsn,
  ipv4 as isIpv4,
  ipv6 as isIpv6,
} from './detectors/validators.js';
export { SECRET_RULE_IDS } from './detectors/secrets.js';
export {
  createMaskContext,
  maskText,
  maskAndCount,
  maskJson,
  type MaskContext,
  type MaskOptions,
  type MaskResult,
  type MaskedFinding,
} from './masking/text.js';
export { createStreamMasker, MAX_HOLD, type StreamMasker } from './masking/stream.js';
export { keyedHash, partial, HASH_HEX_LENGTH } from './masking/styles.js';
export { columnMaskKind, maskCell, maskColumnValue, PgType, type ColumnMaskKind } from './masking/columns.js';
export * from './policy/schema.js';
export {
  init,
  analyzeSql,
  PreparedStatements,
  type SqlAnalysis,
  type StatementFacts,
  type TableRef,
  type AnalyzeOptions,
} from './sql/analyze.js';
export { numericShape } from './sql/numeric-shape.js';
export { STATEMENT_KINDS, type StatementKind } from './sql/kinds.js';
export { GUARDRAIL_IDS, matchesTable, sameIgnoringCase, unsafeClientEncoding, type GuardrailId } from './decide/guardrails.js';
export {
  compilePolicy,
  decide,
  columnMaskStyle,
  type CompiledPolicy,
  type Decision,
  type DecisionRequest,
  type MaskPlan,
  type Considered,
} from './decide/decide.js';
export { maskContextFor } from './masking/plan.js';
export * from './budgets/budgets.js';
