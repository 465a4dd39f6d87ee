import { ApiError } from '@portcullis/api';
import { z } from 'zod';
import { CliError } from './errors.js';
import { jsonBody, send, type Peer } from './http.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The control plane's REST API (/api/v1), called with a bearer token. */
export class ControlPlane {
  private readonly peer: Peer;
  private token?: Promise<string>;

  constructor(
    base: string,
    private readonly getToken: () => Promise<string>,
  ) {
    this.peer = { what: 'the control plane', base: base.replace(/\/+$/, '') };
  }

  get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.request('GET', path, schema);
  }

  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    return this.request('POST', path, schema, body);
  }

  put<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    return this.request('PUT', path, schema, body);
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path, undefined);
  }

  private async request<T>(method: Method, path: string, schema: z.ZodType<T> | undefined, body?: unknown): Promise<T> {
    // The token is fetched once per command, and only when a call needs it.
    this.token ??= this.getToken();
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${await this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await send(this.peer, `${this.peer.base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = await jsonBody(res);
    if (!res.ok) throw apiError(res, payload);
    if (!schema) return undefined as T;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      throw new CliError(
        `unexpected response from the control plane to ${method} /api/v1${path}: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }
}

/** A refusal from the control plane, with its HTTP status for callers that treat one specially. */
export class ApiCallError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function apiError(res: Response, payload: unknown): ApiCallError {
  const parsed = ApiError.safeParse(payload);
  if (!parsed.success) return new ApiCallError(`${res.status} ${res.statusText} from the control plane`, res.status);
  const { statusCode, error, message, issues } = parsed.data;
  const details = issues?.length
    ? ` (${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')})`
    : '';
  return new ApiCallError(`${statusCode} ${error}: ${message}${details}`, res.status);
}

/** A path segment from user input: names and ids never reach the URL unescaped. */
export const seg = (value: string): string => encodeURIComponent(value);
