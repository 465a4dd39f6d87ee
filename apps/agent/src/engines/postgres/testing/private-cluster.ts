import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A throwaway PostgreSQL 15 server of the test's own, for what the shared server cannot give:
 * password authentication (SCRAM, md5, cleartext; the shared one trusts loopback), TLS, and more
 * than 100 connections. Runs as the `postgres` OS user in a temp dir on a free port.
 */
export class PrivateCluster {
  port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'pc-pg-'));
  /** PEM of the server's self-signed certificate (CN=localhost), also usable by clients. */
  readonly certFile = join(this.dir, 'server.crt');
  readonly keyFile = join(this.dir, 'server.key');
  readonly passwords = { scram: 's3cret-scram', md5: 's3cret-md5', plain: 's3cret-plain', tls: 's3cret-tls' };

  static async start(): Promise<PrivateCluster> {
    const cluster = new PrivateCluster();
    await cluster.init();
    return cluster;
  }

  private async init(): Promise<void> {
    this.port = await freePort();
    const data = join(this.dir, 'data');
    giveToPostgres(this.dir);
    await asPostgres(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      this.keyFile,
      '-out',
      this.certFile,
    ]);
    chmodSync(this.keyFile, 0o600);
    giveToPostgres(this.keyFile);
    chmodSync(this.certFile, 0o644);
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        `port = ${this.port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${this.dir}'`,
        'max_connections = 400',
        'shared_buffers = 32MB',
        'fsync = off',
        'ssl = on',
        `ssl_cert_file = '${this.certFile}'`,
        `ssl_key_file = '${this.keyFile}'`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(data, 'pg_hba.conf'),
      [
        'local all all trust',
        'host all scram_user 127.0.0.1/32 scram-sha-256',
        'host all md5_user 127.0.0.1/32 md5',
        'host all plain_user 127.0.0.1/32 password',
        'hostssl all tls_user 127.0.0.1/32 scram-sha-256',
        'hostnossl all tls_user 127.0.0.1/32 reject',
        'host all postgres 127.0.0.1/32 trust',
        '',
      ].join('\n'),
    );
    await asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-l', join(this.dir, 'log'), '-w', 'start']);
    await this.admin([
      `CREATE ROLE scram_user LOGIN SUPERUSER PASSWORD '${this.passwords.scram}'`,
      `SET password_encryption = 'md5'`,
      `CREATE ROLE md5_user LOGIN PASSWORD '${this.passwords.md5}'`,
      `RESET password_encryption`,
      `CREATE ROLE plain_user LOGIN PASSWORD '${this.passwords.plain}'`,
      `CREATE ROLE tls_user LOGIN PASSWORD '${this.passwords.tls}'`,
    ]);
  }

  async admin(statements: string[]): Promise<void> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await asPostgres(`${BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Gives a path to the postgres OS user (the server refuses to run as root). */
function giveToPostgres(path: string): void {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, id('-u'), id('-g'));
}

async function asPostgres(command: string, args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: '/tmp' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
