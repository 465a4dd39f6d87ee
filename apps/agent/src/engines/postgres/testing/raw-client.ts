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
