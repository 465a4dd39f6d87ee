import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { HandshakeReader } from './handshake-reader.js';
import {
  AUTH_CLEARTEXT,
  AUTH_MD5,
  AUTH_OK,
  AUTH_SASL,
  AUTH_SASL_CONTINUE,
  AUTH_SASL_FINAL,
  BodyReader,
  ClientCode,
  cancelRequest,
  cstring,
  int32,
  message,
  parseErrorFields,
  SSL_REQUEST,
  startupMessage,
  ServerCode,
  startupPacket,
} from './protocol.js';

/** Where and how to reach the upstream database of a connection. */
export interface UpstreamTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  sslrootcert?: string;
}

/**
 * Reads `postgresql://[user@]host[:port]/db[?sslmode=...&sslrootcert=...]`. `prefer` and `allow`
 * are taken as `disable` (the agent never guesses: ask for require/verify-full to get TLS). A
 * password in the URL is ignored on purpose: credentials come from the connection's credential.
 */
export function parseTarget(target: string): UpstreamTarget {
  const url = new URL(target);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`connection target must be a postgresql:// URL`);
  }
  const mode = url.searchParams.get('sslmode') ?? 'disable';
  const sslmode = mode === 'prefer' || mode === 'allow' ? 'disable' : mode;
  if (!['disable', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw new Error(`unsupported sslmode ${mode}`);
  }
  const user = decodeURIComponent(url.username);
  if (!user) throw new Error('connection target names no user');
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || user,
    user,
    sslmode: sslmode as UpstreamTarget['sslmode'],
    sslrootcert: url.searchParams.get('sslrootcert') ?? undefined,
  };
}

/** A failure to reach or log into the upstream; the client gets 08006 with this message. */
export class UpstreamError extends Error {
  /** The upstream's SQLSTATE, or the socket's errno code (ECONNREFUSED), when there is one. */
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface UpstreamSession {
  socket: net.Socket | tls.TLSSocket;
  /** The upstream's (pid, secret), for forwarding cancel requests. */
  pid: number;
  secret: number;
  /** ParameterStatus and NoticeResponse frames to forward to the client as they came. */
  greeting: Buffer[];
  /** ReadyForQuery frame closing the handshake, forwarded as is. */
  ready: Buffer;
  /** Bytes received after ReadyForQuery (normally none). */
  rest: Buffer;
  /** Rows of the query run after login, as text (null for NULL). */
  rows: (string | null)[][];
}

const MAX_HANDSHAKE_FRAME = 1 << 20;

/**
 * Opens a logged-in session on the upstream: TCP (and TLS when the target asks), startup with the
 * client's parameters, then whatever authentication the server picks: trust, cleartext, md5 or
 * SCRAM-SHA-256.
 */
export async function connectUpstream(
  target: UpstreamTarget,
  password: string | undefined,
  parameters: Record<string, string>,
  timeoutMs: number,
  /** A query the agent runs for itself once logged in, before the client's session starts. */
  afterLogin?: string,
): Promise<UpstreamSession> {
  const socket = await openSocket(target, timeoutMs);
  // An error closes the socket; the reader (and later the session) sees the close.
  socket.on('error', () => socket.destroy());
  const timer = setTimeout(() => socket.destroy(new UpstreamError('upstream login timed out')), timeoutMs);
  const reader = new HandshakeReader(socket);
  try {
    socket.write(startupMessage({ ...parameters, user: target.user, database: target.database }));
    let scram: ScramClient | undefined;
    const greeting: Buffer[] = [];
    let pid = 0;
    let secret = 0;
    let pending = afterLogin;
    const rows: (string | null)[][] = [];
    for (;;) {
      const { code, frame } = await reader.frame(MAX_HANDSHAKE_FRAME);
      const body = new BodyReader(frame, 5, frame.length);
      switch (code) {
        case ServerCode.Authentication: {
          const kind = body.int32();
          if (kind === AUTH_OK) break;
          if (password === undefined) throw new UpstreamError('no credential available for this connection');
          if (kind === AUTH_CLEARTEXT) {
            socket.write(message(ClientCode.Password, cstring(password)));
          } else if (kind === AUTH_MD5) {
            const salt = body.bytes(4);
            const inner = createHash('md5')
              .update(password + target.user)
              .digest('hex');
            const outer = createHash('md5').update(inner).update(salt).digest('hex');
            socket.write(message(ClientCode.Password, cstring(`md5${outer}`)));
          } else if (kind === AUTH_SASL) {
            const mechanisms: string[] = [];
            for (let name = body.cstring(); name !== ''; name = body.cstring()) mechanisms.push(name);
            if (!mechanisms.includes('SCRAM-SHA-256')) {
              throw new UpstreamError(`upstream offers no supported SASL mechanism (${mechanisms.join(', ')})`);
            }
            scram = new ScramClient(password);
            const first = Buffer.from(scram.clientFirst(), 'utf8');
            socket.write(message(ClientCode.Password, cstring('SCRAM-SHA-256'), int32(first.length), first));
          } else if (kind === AUTH_SASL_CONTINUE && scram) {
            const reply = await scram.clientFinal(body.bytes(body.remaining()).toString('utf8'));
            socket.write(message(ClientCode.Password, Buffer.from(reply, 'utf8')));
          } else if (kind === AUTH_SASL_FINAL && scram) {
            scram.verifyServerFinal(body.bytes(body.remaining()).toString('utf8'));
          } else {
            throw new UpstreamError(`upstream asks for an unsupported authentication method (${kind})`);
          }
          break;
        }
        case ServerCode.ParameterStatus:
        case ServerCode.NoticeResponse:
          greeting.push(frame);
          break;
        case ServerCode.BackendKeyData:
          pid = body.int32();
          secret = body.int32();
          break;
        case ServerCode.ErrorResponse: {
          const fields = parseErrorFields(frame, 0, frame.length);
          const what = afterLogin && pending === undefined ? 'the agent\'s own query after login failed: ' : '';
          throw new UpstreamError(what + (fields.get('M') ?? 'upstream refused the login'), fields.get('C'));
        }
        case ServerCode.RowDescription:
        case ServerCode.CommandComplete:
          if (afterLogin && pending === undefined) break;
          throw new UpstreamError(`unexpected message 0x${code.toString(16)} from upstream during login`);
        case ServerCode.DataRow: {
          if (!afterLogin || pending !== undefined) throw new UpstreamError('unexpected row from upstream during login');
          const row: (string | null)[] = [];
          for (let n = body.int16(); n > 0; n--) {
            const length = body.int32();
            row.push(length < 0 ? null : body.bytes(length).toString('utf8'));
          }
          rows.push(row);
          break;
        }
        case ServerCode.ReadyForQuery:
          if (pending !== undefined) {
            socket.write(message(ClientCode.Query, cstring(pending)));
            pending = undefined;
            break;
          }
          clearTimeout(timer);
          return { socket, pid, secret, greeting, ready: frame, rest: reader.detach(), rows };
        default:
          throw new UpstreamError(`unexpected message 0x${code.toString(16)} from upstream during login`);
      }
    }
  } catch (error) {
    clearTimeout(timer);
    reader.detach();
    socket.destroy();
    throw error instanceof UpstreamError ? error : new UpstreamError((error as Error).message);
  }
}

/** Sends a cancel request for (pid, secret) to the upstream; best effort, like libpq's. */
export function sendCancel(target: UpstreamTarget, pid: number, secret: number, timeoutMs: number): void {
  openSocket(target, timeoutMs).then(
    (socket) => {
      socket.setTimeout(timeoutMs, () => socket.destroy());
      socket.on('error', () => socket.destroy());
      socket.end(cancelRequest(pid, secret));
    },
    () => undefined,
  );
}

async function openSocket(target: UpstreamTarget, timeoutMs: number): Promise<net.Socket | tls.TLSSocket> {
  const socket = net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.setTimeout(timeoutMs, () =>
        reject(new UpstreamError(`upstream ${target.host}:${target.port} timed out`, 'ETIMEDOUT')),
      );
      socket.once('connect', resolve);
      socket.once('error', (error) =>
        reject(
          new UpstreamError(
            `upstream ${target.host}:${target.port} unreachable: ${error.message}`,
            (error as NodeJS.ErrnoException).code,
          ),
        ),
      );
    });
    socket.setTimeout(0);
    socket.removeAllListeners('error');
    if (target.sslmode === 'disable') return socket;

    socket.write(startupPacket(int32(SSL_REQUEST)));
    const answer = await new Promise<Buffer>((resolve, reject) => {
      socket.once('data', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new UpstreamError('upstream closed the connection')));
    });
    socket.removeAllListeners();
    if (answer.length !== 1 || answer[0] !== 0x53) throw new UpstreamError('upstream does not support TLS');
    const secure = tls.connect({
      socket,
      servername: net.isIP(target.host) ? undefined : target.host,
      ca: target.sslrootcert ? readFileSync(target.sslrootcert) : undefined,
      rejectUnauthorized: target.sslmode !== 'require',
      // verify-ca checks the chain only, as libpq does.
      checkServerIdentity: target.sslmode === 'verify-full' ? tls.checkServerIdentity : () => undefined,
    });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', (error) => reject(new UpstreamError(`upstream TLS failed: ${error.message}`)));
    });
    secure.removeAllListeners('error');
    return secure;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

const pbkdf2Async = promisify(pbkdf2);

/** SCRAM-SHA-256 client side (RFC 5802/7677), without channel binding, as PostgreSQL expects. */
class ScramClient {
  private readonly nonce = randomBytes(18).toString('base64');
  private expectedServerSignature?: Buffer;

  constructor(private readonly password: string) {}

  clientFirst(): string {
    return `n,,${this.firstBare()}`;
  }

  async clientFinal(serverFirst: string): Promise<string> {
    const attributes = new Map(serverFirst.split(',').map((part) => [part[0], part.slice(2)]));
    const nonce = attributes.get('r') ?? '';
    const salt = Buffer.from(attributes.get('s') ?? '', 'base64');
    const iterations = Number(attributes.get('i'));
    if (!nonce.startsWith(this.nonce) || nonce === this.nonce || salt.length === 0 || !(iterations >= 1)) {
      throw new UpstreamError('invalid SCRAM challenge from upstream');
    }
    // PostgreSQL applies SASLprep to the password; NFKC covers what changes real passwords.
    const salted = await pbkdf2Async(this.password.normalize('NFKC'), salt, iterations, 32, 'sha256');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare()},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verifyServerFinal(serverFinal: string): void {
    const match = /(?:^|,)v=([^,]*)/.exec(serverFinal);
    const received = Buffer.from(match?.[1] ?? '', 'base64');
    if (
      !this.expectedServerSignature ||
      received.length !== this.expectedServerSignature.length ||
      !timingSafeEqual(received, this.expectedServerSignature)
    ) {
      throw new UpstreamError('upstream failed SCRAM server verification');
    }
  }

  private firstBare(): string {
    return `n=*,r=${this.nonce}`;
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
