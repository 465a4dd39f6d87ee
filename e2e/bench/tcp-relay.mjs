// The floor of any Node.js proxy on this machine: a TCP relay that copies bytes both ways and
// does nothing else (no framing, no policy, no recording). `pnpm bench:pg` runs pgbench through
// it in the same run as the agent, so the table shows how much of the agent's cost is Node's own
// socket path and how much is the agent's work.
// Usage: node tcp-relay.mjs <listen port> <upstream host> <upstream port>
import net from 'node:net';

const [listenPort, upstreamHost, upstreamPort] = process.argv.slice(2);
net
  .createServer((client) => {
    const upstream = net.connect(Number(upstreamPort), upstreamHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  })
  .listen(Number(listenPort), '127.0.0.1', () => console.log('listening'));
