import { unreachable } from './errors.js';

const TIMEOUT_MS = 30_000;

/** Who is being called, for errors: "cannot reach <what> at <base>: <reason>". */
export interface Peer {
  what: string;
  base: string;
}

/** fetch with a timeout, turning network failures into one clear line. */
export async function send(peer: Peer, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw unreachable(peer.what, peer.base, err);
  }
}

/** The body as JSON, or undefined when it is empty or not JSON (proxies answer with HTML). */
export async function jsonBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
