/**
 * PostgreSQL protocol v3 pieces the agent itself speaks: codes, the few messages it writes
 * (auth requests, errors, key data), and readers for the messages it looks into. Everything else
 * passes through untouched (see frames.ts).
 */

/** Type bytes of messages a client sends (first byte of every frame after startup). */
export const enum ClientCode {
  Bind = 0x42, // B
  Close = 0x43, // C
  CopyData = 0x64, // d
  CopyDone = 0x63, // c
  CopyFail = 0x66, // f
  Describe = 0x44, // D
  Execute = 0x45, // E
  Flush = 0x48, // H
  FunctionCall = 0x46, // F
  Parse = 0x50, // P
  Password = 0x70, // p
  Query = 0x51, // Q
  Sync = 0x53, // S
  Terminate = 0x58, // X
}

/** Type bytes of messages a server sends (some letters mean something else from a client). */
export const enum ServerCode {
  Authentication = 0x52, // R
  BackendKeyData = 0x4b, // K
  CommandComplete = 0x43, // C
  DataRow = 0x44, // D
  EmptyQueryResponse = 0x49, // I
  ErrorResponse = 0x45, // E
  NoticeResponse = 0x4e, // N
  NotificationResponse = 0x41, // A
  ParameterStatus = 0x53, // S
  ParseComplete = 0x31, // 1
  BindComplete = 0x32, // 2
  CloseComplete = 0x33, // 3
  NoData = 0x6e, // n
  CopyInResponse = 0x47, // G
  PortalSuspended = 0x73, // s
  ReadyForQuery = 0x5a, // Z
  RowDescription = 0x54, // T
}

/** Every type byte a client may send after startup; anything else is garbage. */
export const FRONTEND_CODES: ReadonlySet<number> = new Set([
  ClientCode.Bind,
  ClientCode.Close,
  ClientCode.CopyData,
  ClientCode.CopyDone,
  ClientCode.CopyFail,
  ClientCode.Describe,
  ClientCode.Execute,
  ClientCode.Flush,
  ClientCode.FunctionCall,
  ClientCode.Parse,
  ClientCode.Password,
  ClientCode.Query,
  ClientCode.Sync,
  ClientCode.Terminate,
]);

/** Request codes of untyped startup-phase packets. */
export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
/** PostgreSQL's own limit for startup packets. */
export const MAX_STARTUP_PACKET = 10_000;

export const AUTH_OK = 0;
export const AUTH_CLEARTEXT = 3;
export const AUTH_MD5 = 5;
export const AUTH_SASL = 10;
export const AUTH_SASL_CONTINUE = 11;
export const AUTH_SASL_FINAL = 12;

/** SQLSTATEs the agent itself returns. */
export const SqlState = {
  ProtocolViolation: '08P01',
  ConnectionFailure: '08006',
  InvalidAuthorization: '28000',
  InvalidPassword: '28P01',
  UnknownDatabase: '3D000',
  AdminShutdown: '57P01',
  CannotConnectNow: '57P03',
  FeatureNotSupported: '0A000',
} as const;

// ---------------------------------------------------------------------------------------------
// writing

/** Builds one typed message: code, length, then the parts. */
export function message(code: number, ...parts: Buffer[]): Buffer {
  let length = 4;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(1 + length);
  out[0] = code;
  out.writeInt32BE(length, 1);
  let offset = 5;
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}

export function int32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeInt32BE(value, 0);
  return out;
}

export function cstring(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8');
}

export type Severity = 'ERROR' | 'FATAL';

/** An ErrorResponse psql and drivers show as usual: severity, SQLSTATE, message. */
export function errorResponse(severity: Severity, code: string, text: string): Buffer {
  return message(ServerCode.ErrorResponse, Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${text}\0\0`, 'utf8'));
}

export function authentication(kind: number, data?: Buffer): Buffer {
  return data ? message(ServerCode.Authentication, int32(kind), data) : message(ServerCode.Authentication, int32(kind));
}

export const AUTH_OK_MESSAGE = authentication(AUTH_OK);
export const AUTH_CLEARTEXT_MESSAGE = authentication(AUTH_CLEARTEXT);

export function backendKeyData(pid: number, secret: number): Buffer {
  return message(ServerCode.BackendKeyData, int32(pid), int32(secret));
}

export function readyForQuery(status: number): Buffer {
  return message(ServerCode.ReadyForQuery, Buffer.from([status]));
}

/** An untyped startup-phase packet (startup message, cancel request). */
export function startupPacket(...parts: Buffer[]): Buffer {
  let length = 4;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(length);
  out.writeInt32BE(length, 0);
  let offset = 4;
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}

export function startupMessage(parameters: Record<string, string>): Buffer {
  const pairs = Object.entries(parameters).flatMap(([name, value]) => [cstring(name), cstring(value)]);
  return startupPacket(int32(PROTOCOL_3_0), ...pairs, Buffer.from([0]));
}

export function cancelRequest(pid: number, secret: number): Buffer {
  return startupPacket(int32(CANCEL_REQUEST), int32(pid), int32(secret));
}

// ---------------------------------------------------------------------------------------------
// reading

/** A bounds-checked cursor over one message body; reads past the end throw ProtocolError. */
export class BodyReader {
  constructor(
    private readonly buffer: Buffer,
    public offset: number,
    private readonly end: number,
  ) {}

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  byte(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }

  cstring(): string {
    const zero = this.buffer.indexOf(0, this.offset);
    if (zero < 0 || zero >= this.end) throw new ProtocolError('unterminated string');
    const value = this.buffer.toString('utf8', this.offset, zero);
    this.offset = zero + 1;
    return value;
  }

  /** A view of the next `length` bytes (no copy). */
  bytes(length: number): Buffer {
    this.need(length);
    const view = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(length: number): void {
    if (length < 0 || this.offset + length > this.end) throw new ProtocolError('message too short');
  }
}

export class ProtocolError extends Error {}

export interface StartupMessage {
  kind: 'startup';
  parameters: Map<string, string>;
}
export type StartupPacket =
  | StartupMessage
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number }
  | { kind: 'unsupported'; code: number };

/** Reads an untyped startup packet (without its length prefix). */
export function parseStartupPacket(body: Buffer): StartupPacket {
  const reader = new BodyReader(body, 0, body.length);
  const code = reader.int32();
  switch (code) {
    case SSL_REQUEST:
      return { kind: 'ssl' };
    case GSSENC_REQUEST:
      return { kind: 'gssenc' };
    case CANCEL_REQUEST:
      return { kind: 'cancel', pid: reader.int32(), secret: reader.int32() };
    case PROTOCOL_3_0: {
      const parameters = new Map<string, string>();
      for (;;) {
        const name = reader.cstring();
        if (name === '') break;
        parameters.set(name, reader.cstring());
      }
      return { kind: 'startup', parameters };
    }
    default:
      return { kind: 'unsupported', code };
  }
}

/** The fields of an ErrorResponse / NoticeResponse body, keyed by field type letter. */
export function parseErrorFields(buffer: Buffer, start: number, end: number): Map<string, string> {
  const fields = new Map<string, string>();
  const reader = new BodyReader(buffer, start + 5, end);
  while (reader.remaining() > 0) {
    const type = reader.byte();
    if (type === 0) break;
    fields.set(String.fromCharCode(type), reader.cstring());
  }
  return fields;
}
