import net from 'node:net';

/** Byte builders and a raw socket client, for tests that must send what no driver would. */
export function frame(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
export const z = (s: string) => Buffer.from(`${s}\0`);
export const i16 = (n: number) => Buffer.from([n >> 8, n & 255]);
export const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export function startupPacket(parameters: Record<string, string>): Buffer {
  const body = Buffer.concat([
    i32(196608),
    ...Object.entries(parameters).flatMap(([k, v]) => [z(k), z(v)]),
    Buffer.from([0]),
  ]);
  return Buffer.concat([i32(body.length + 4), body]);
}

/** Opens a raw socket; when `token` is given, logs in first and waits for ReadyForQuery. */
export async function rawSession(port: number, token?: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  if (!token) return socket;
  socket.write(startupPacket({ user: 'fuzz', database: 'sales' }));
  let received = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length === 9 && received[0] === 0x52) socket.write(frame('p', z(token)));
      if (received.length >= 6 && received.subarray(-6, -1).equals(Buffer.from([0x5a, 0, 0, 0, 5]))) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`login failed: ${received.toString('latin1')}`)));
  });
  return socket;
}

/** Reads server messages until `count` ReadyForQuery have come; returns type letters, error texts and DataRow bodies. */
export async function readUntilReady(socket: net.Socket, count: number): Promise<{ types: string; errors: string[]; statuses: string; rows: (string | null)[] }> {
  let buffer = Buffer.alloc(0);
  let types = '';
  let statuses = '';
  const errors: string[] = [];
  /** The first value of each DataRow (null for SQL NULL). */
  const rows: (string | null)[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${types}`)), 5000);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const length = 1 + buffer.readInt32BE(1);
        const type = String.fromCharCode(buffer[0]!);
        types += type;
        if (type === 'E') errors.push(buffer.toString('utf8', 5, length));
        if (type === 'D') rows.push(buffer.readInt32BE(7) < 0 ? null : buffer.toString('utf8', 11, length));
        if (type === 'Z') statuses += String.fromCharCode(buffer[5]!);
        buffer = buffer.subarray(length);
        if (statuses.length === count) {
          clearTimeout(timer);
          socket.off('data', onData);
          resolve({ types, errors, statuses, rows });
          return;
        }
      }
    };
    socket.on('data', onData);
  });
}
