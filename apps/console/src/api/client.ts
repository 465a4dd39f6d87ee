import type { ZodType } from 'zod';
import { ApiFailure, failureFromResponse } from './errors.js';

export interface TokenSource {
  accessToken(): Promise<string | null>;
  tokenRefused(): Promise<string | null>;
}

export type Query = Record<string, string | number | undefined | null>;

interface RequestOptions<T> {
  query?: Query;
  body?: unknown;
  /** The shared schema of the answer: checked, so a contract drift shows as a clear error. */
  schema?: ZodType<T>;
  signal?: AbortSignal;
}

/** The REST client: bearer token, JSON, errors as ApiFailure, answers checked against @portcullis/api. */
export class ApiClient {
  constructor(
    private readonly tokens: TokenSource,
    private readonly base = '/api/v1',
  ) {}

  get<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request('GET', path, options);
  }
  post<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request('POST', path, options);
  }
  put<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request('PUT', path, options);
  }
  patch<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request('PATCH', path, options);
  }
  delete<T = void>(path: string, options: RequestOptions<T> = {}): Promise<T> {
    return this.request('DELETE', path, options);
  }

  /** Fetches an answer as text (exports), with the same auth and errors. */
  async text(path: string, query: Query = {}): Promise<string> {
    const res = await this.send('GET', path, { query });
    return res.text();
  }

  private async request<T>(method: string, path: string, options: RequestOptions<T>): Promise<T> {
    const res = await this.send(method, path, options);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    if (!options.schema) return body as T;
    const parsed = options.schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const first = parsed.error.issues[0];
    throw new ApiFailure(
      'contract',
      `The control plane answered ${method} ${path} with data this console does not understand` +
        (first ? ` (${first.path.join('.') || 'body'}: ${first.message}).` : '.'),
    );
  }

  private async send(
    method: string,
    path: string,
    options: Omit<RequestOptions<unknown>, 'schema'>,
  ): Promise<Response> {
    const url = this.base + path + queryString(options.query);
    const attempt = async (token: string | null): Promise<Response> => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      try {
        return await fetch(url, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: options.signal,
        });
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        throw new ApiFailure(
          'unreachable',
          'The control plane did not answer. Check your network and that it is running.',
        );
      }
    };
    let res = await attempt(await this.tokens.accessToken());
    if (res.status === 401) {
      const fresh = await this.tokens.tokenRefused();
      if (fresh) res = await attempt(fresh);
    }
    if (res.ok) return res;
    const body: unknown = await res.json().catch(() => undefined);
    throw failureFromResponse(res.status, body, method, this.base + path);
  }
}

export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
