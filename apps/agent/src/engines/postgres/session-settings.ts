/**
 * Settings that change how the server reads SQL text, kept where the agent reads it the same way.
 *
 * The agent judges and records SQL as UTF-8 with standard-conforming strings. A client encoding
 * whose multibyte characters may end in an ASCII byte (SJIS, BIG5, GBK, UHC, GB18030, JOHAB), or
 * backslash escapes in ordinary strings, would let the server see a quote where the agent sees
 * text, and run a statement the policy never saw. Such values are refused at login and end the
 * session when the server reports them later (a SET the guardrails did not stop).
 */

import { unsafeClientEncoding } from '@portcullis/policy';
import { BodyReader, ServerCode } from './protocol.js';

/** Why a server-reported setting cannot be allowed, or undefined. */
export function unsafeServerSetting(name: string, value: string): string | undefined {
  if (name === 'client_encoding' && unsafeClientEncoding(value)) {
    return `client_encoding ${value} is not supported through the agent (use UTF8)`;
  }
  if (name === 'standard_conforming_strings' && value !== 'on') {
    return 'standard_conforming_strings must stay on through the agent';
  }
  return undefined;
}

/** For a server frame: what is wrong with the setting it reports, if it is a ParameterStatus. */
export function serverSettingProblem(frame: Buffer, start = 0, end = frame.length): string | undefined {
  if (frame[start] !== ServerCode.ParameterStatus) return undefined;
  const body = new BodyReader(frame, start + 5, end);
  return unsafeServerSetting(body.cstring(), body.cstring());
}

/** Settings a client may not choose at login: who the session acts as is the connection's. */
export const REFUSED_STARTUP_SETTINGS: ReadonlySet<string> = new Set(['role', 'session_authorization']);
