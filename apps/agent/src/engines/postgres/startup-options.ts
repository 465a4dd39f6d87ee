import { REFUSED_STARTUP_SETTINGS } from './session-settings.js';

/**
 * The client's startup parameters, split into what the agent uses and what goes upstream.
 * `user` and `database` are the agent's (free text, connection name); `replication` is refused
 * by the engine; `portcullis.*` settings in `options` (e.g. `-c portcullis.trace_id=abc`) are
 * read here and removed, because PostgreSQL rejects unknown settings at login.
 */
export interface ClientStartup {
  user: string;
  connectionName: string;
  applicationName: string;
  traceId: string;
  /** Parameters to send to the upstream (without user/database, which come from the target). */
  upstream: Record<string, string>;
  /** A setting the client may not choose at login (role, session_authorization), if it asked for one. */
  refusedSetting?: string;
}

const TRACE_ID_SETTING = 'portcullis.trace_id';

export function splitStartup(parameters: Map<string, string>): ClientStartup {
  const upstream: Record<string, string> = {};
  let traceId = '';
  let refusedSetting: string | undefined;
  for (const [name, value] of parameters) {
    if (name === 'user' || name === 'database' || name === 'replication') continue;
    if (name === TRACE_ID_SETTING) {
      traceId = value;
      continue;
    }
    if (name === 'options') {
      const { settings, rest, names } = splitOptions(value);
      traceId = settings.get(TRACE_ID_SETTING) ?? traceId;
      refusedSetting ??= names.find((n) => REFUSED_STARTUP_SETTINGS.has(n));
      if (rest !== '') upstream.options = rest;
      continue;
    }
    if (REFUSED_STARTUP_SETTINGS.has(name.toLowerCase())) refusedSetting ??= name.toLowerCase();
    upstream[name] = value;
  }
  return {
    user: parameters.get('user') ?? '',
    connectionName: parameters.get('database') || parameters.get('user') || '',
    applicationName: parameters.get('application_name') ?? '',
    traceId: traceId.slice(0, 128),
    upstream,
    ...(refusedSetting ? { refusedSetting } : {}),
  };
}

/**
 * Splits libpq `options` (`-c name=value`, `--name=value`, backslash-escaped spaces) into the
 * `portcullis.*` settings and the rest, kept in its original words.
 */
function splitOptions(options: string): { settings: Map<string, string>; rest: string; names: string[] } {
  const words = options.match(/(?:\\.|[^\s\\])+/g) ?? [];
  const settings = new Map<string, string>();
  const kept: string[] = [];
  /** Names of every setting given, lower case with dashes as underscores (as the server reads them). */
  const names: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let setting: string | undefined;
    let consumed = 1;
    if (word === '-c' && i + 1 < words.length) {
      setting = words[i + 1];
      consumed = 2;
    } else if (word.startsWith('-c')) setting = word.slice(2);
    else if (word.startsWith('--')) setting = word.slice(2);
    const unescaped = setting?.replace(/\\(.)/g, '$1');
    const equals = unescaped?.indexOf('=') ?? -1;
    if (unescaped && equals > 0) names.push(unescaped.slice(0, equals).replace(/-/g, '_').toLowerCase());
    if (unescaped && equals > 0 && unescaped.slice(0, equals).replace(/-/g, '_').startsWith('portcullis.')) {
      settings.set(unescaped.slice(0, equals).replace(/-/g, '_'), unescaped.slice(equals + 1));
    } else {
      kept.push(...words.slice(i, i + consumed));
    }
    i += consumed - 1;
  }
  return { settings, rest: kept.join(' '), names };
}
