import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

const TOKEN = 'tok-5b0e1c';

describe('agent configuration', () => {
  it('has working defaults next to a control plane on this host', () => {
    const config = loadConfig([], { PORTCULLIS_AGENT_TOKEN: TOKEN });
    assert.deepEqual(config, {
      controlPlane: '127.0.0.1:8090',
      agentToken: TOKEN,
      controlPlaneInsecure: false,
      controlPlaneCaFile: undefined,
      dataDir: './.data/agent',
      labels: ['default'],
      pgListen: { host: '127.0.0.1', port: 15432 },
      httpListen: { host: '127.0.0.1', port: 18080 },
      statusListen: { host: '127.0.0.1', port: 9464 },
      advertise: undefined,
      spoolMaxBytes: 256 * 1024 * 1024,
      recordingFailure: 'refuse',
      offlineMode: 'serve',
      pgTls: undefined,
      sessionExpiryGraceSeconds: 0,
      logLevel: 'info',
    });
  });

  it('reads the environment, and flags win over it', () => {
    const config = loadConfig(['--pg-listen', '0.0.0.0:6432', '--labels', 'net-a, net-b'], {
      PORTCULLIS_AGENT_TOKEN: TOKEN,
      PORTCULLIS_CONTROL_PLANE: 'cp.internal:443',
      PORTCULLIS_CONTROL_PLANE_INSECURE: 'true',
      PORTCULLIS_PG_LISTEN: '127.0.0.1:1',
      PORTCULLIS_STATUS_LISTEN: '[::1]:0',
      PORTCULLIS_ADVERTISE: 'postgres=agent-a.corp:15432,http=agent-a.corp:18080',
      PORTCULLIS_SPOOL_MAX_BYTES: '1048576',
      PORTCULLIS_RECORDING_FAILURE: 'serve',
      PORTCULLIS_OFFLINE_MODE: 'refuse',
      PORTCULLIS_HTTP_LISTEN: '',
    });
    assert.equal(config.controlPlane, 'cp.internal:443');
    assert.equal(config.controlPlaneInsecure, true);
    assert.deepEqual(config.pgListen, { host: '0.0.0.0', port: 6432 });
    assert.deepEqual(config.httpListen, { host: '127.0.0.1', port: 18080 });
    assert.deepEqual(config.statusListen, { host: '::1', port: 0 });
    assert.deepEqual(config.labels, ['net-a', 'net-b']);
    assert.deepEqual(config.advertise, [
      { protocol: 'postgres', address: 'agent-a.corp:15432' },
      { protocol: 'http', address: 'agent-a.corp:18080' },
    ]);
    assert.equal(config.spoolMaxBytes, 1048576);
    assert.equal(config.recordingFailure, 'serve');
    assert.equal(config.offlineMode, 'refuse');
  });

  it('names every bad setting at once and never echoes the token', () => {
    assert.throws(() => loadConfig([], {}), (err: Error) => err instanceof ConfigError && /PORTCULLIS_AGENT_TOKEN: is required/.test(err.message));
    assert.throws(
      () =>
        loadConfig([], {
          PORTCULLIS_AGENT_TOKEN: TOKEN,
          PORTCULLIS_PG_LISTEN: 'nope',
          PORTCULLIS_RECORDING_FAILURE: 'maybe',
          PORTCULLIS_ADVERTISE: 'postgres',
        }),
      (err: Error) =>
        /PORTCULLIS_PG_LISTEN: expected host:port, got "nope"/.test(err.message) &&
        /PORTCULLIS_RECORDING_FAILURE/.test(err.message) &&
        /PORTCULLIS_ADVERTISE: expected protocol=host:port/.test(err.message) &&
        !err.message.includes(TOKEN),
    );
    assert.throws(() => loadConfig(['--agent-token', TOKEN], { PORTCULLIS_AGENT_TOKEN: TOKEN }), (err: Error) => err instanceof ConfigError && !err.message.includes(TOKEN));
  });
});
