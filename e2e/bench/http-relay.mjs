// A bare Node.js reverse proxy for `pnpm bench:http`: node:http server, undici keep-alive pool
// (the agent's client), bodies streamed both ways, nothing read, checked or recorded. The floor of
// a Node.js HTTP proxy on this machine. Usage: node http-relay.mjs <listen port> <upstream port>
import http from 'node:http';
import { createRequire } from 'node:module';

const { Pool } = createRequire(new URL('../../apps/agent/package.json', import.meta.url))('undici');
const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 256 });
// undici frames the message itself and refuses these.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

http
  .createServer({ keepAlive: true }, async (req, res) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    try {
      const answer = await pool.request({ method: req.method, path: req.url, headers, body: req });
      res.writeHead(
        answer.statusCode,
        Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name))),
      );
      answer.body.pipe(res);
    } catch {
      res.destroy();
    }
  })
  .listen(listenPort, '127.0.0.1', () => console.log(`http-relay listening on ${listenPort}`));
