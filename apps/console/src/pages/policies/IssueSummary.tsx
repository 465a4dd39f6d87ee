import type { DraftPath } from '../../lib/policy-draft.js';
import { fieldDomId, type FieldProblem } from '../../lib/policy-issues.js';

/** Every problem of the draft, each a link to its field: what stands between the draft and Save. */
export function IssueSummary({
  problems,
  onGo,
}: {
  problems: readonly FieldProblem[];
  /** Shows the field (switching to the view that has it) and focuses it. */
  onGo: (field: DraftPath) => void;
}) {
  if (problems.length === 0) return null;
  return (
    <div className="issue-summary" role="group" aria-labelledby="policy-issue-summary">
      <p id="policy-issue-summary" className="issue-summary-title">
        {problems.length === 1 ? '1 problem' : `${problems.length} problems`} to fix before saving
      </p>
      <ul className="issue-list">
        {problems.map((p, i) => (
          <li key={i}>
            <a
              href={`#${fieldDomId(p.field)}`}
              onClick={(e) => {
                e.preventDefault();
                onGo(p.field);
              }}
            >
              {p.where}
            </a>
            : {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
