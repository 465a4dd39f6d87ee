import { ApiError as ApiErrorBody } from '@portcullis/api';

export type ApiFailureKind =
  | 'unreachable' // no answer at all
  | 'signed-out' // 401 even after a refresh
  | 'forbidden' // 403: the user's role does not allow it
  | 'missing-endpoint' // this control plane has no such route yet
  | 'not-found'
  | 'invalid' // 400 with field issues
  | 'server' // 5xx
  | 'unavailable' // 503/504 the control plane explains: something behind it (an agent) did not answer
  | 'contract'; // an answer that does not match the shared schema

/** A failed API call, described in words a user can act on. */
export class ApiFailure extends Error {
  constructor(
    readonly kind: ApiFailureKind,
    message: string,
    readonly status: number | null = null,
    /** Field problems from a 400, keyed by dotted path ("target", "labels.0"). */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  /** Problems of one field (and its children), for messages next to form fields. */
  issuesFor(field: string): string[] {
    return this.issues.filter((i) => i.path === field || i.path.startsWith(`${field}.`)).map((i) => i.message);
  }
}

/**
 * Turns a non-2xx answer into an ApiFailure. Nest answers an unknown route with
 * 404 "Cannot GET /api/v1/...": that means this control plane does not have the endpoint yet,
 * which the console shows differently from a missing record.
 */
export function failureFromResponse(status: number, body: unknown, method: string, path: string): ApiFailure {
  const parsed = ApiErrorBody.safeParse(body);
  const message = parsed.success ? parsed.data.message : '';
  const issues = parsed.success ? (parsed.data.issues ?? []) : [];
  if (status === 401)
    return new ApiFailure('signed-out', 'The control plane did not accept your sign-in. Sign in again.', status);
  if (status === 403) {
    return new ApiFailure('forbidden', `Your role does not allow this${message ? ` (${message})` : ''}.`, status);
  }
  if (status === 404 && (!parsed.success || /^Cannot [A-Z]+ \//.test(message))) {
    return new ApiFailure('missing-endpoint', `This control plane does not offer ${method} ${path} yet.`, status);
  }
  if (status === 404) return new ApiFailure('not-found', message || 'Not found.', status);
  if (status === 400 || status === 409 || status === 422) {
    const detail =
      issues.length > 0 ? issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ') : '';
    return new ApiFailure('invalid', message || detail || 'The control plane refused the request.', status, issues);
  }
  if ((status === 503 || status === 504) && parsed.success) {
    return new ApiFailure('unavailable', message || `HTTP ${status}`, status);
  }
  if (status >= 500) {
    const upstream = status === 502 || status === 503 || status === 504;
    return new ApiFailure(
      upstream ? 'unreachable' : 'server',
      upstream && !parsed.success
        ? 'The control plane is not answering. Check that it is running.'
        : `The control plane failed: ${message || `HTTP ${status}`}`,
      status,
    );
  }
  return new ApiFailure('server', message || `HTTP ${status}`, status);
}

export function describeError(error: unknown): string {
  if (error instanceof ApiFailure) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
