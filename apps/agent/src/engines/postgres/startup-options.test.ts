import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitStartup } from './startup-options.js';

describe('splitStartup', () => {
  it('takes user, connection, application name, and keeps the rest for the upstream', () => {
    const startup = splitStartup(
      new Map([
        ['user', 'carol'],
        ['database', 'sales'],
        ['application_name', 'etl'],
        ['client_encoding', 'UTF8'],
      ]),
    );
    assert.deepEqual(startup, {
      user: 'carol',
      connectionName: 'sales',
      applicationName: 'etl',
      traceId: '',
      upstream: { application_name: 'etl', client_encoding: 'UTF8' },
    });
  });

  it('reads portcullis.* settings from options and forwards only the others', () => {
    const startup = splitStartup(
      new Map([
        ['user', 'carol'],
        ['options', '-c statement_timeout=5s -c portcullis.trace_id=abc\\ 1 --search_path=app'],
      ]),
    );
    assert.equal(startup.traceId, 'abc 1');
    assert.deepEqual(startup.upstream, { options: '-c statement_timeout=5s --search_path=app' });
    assert.equal(startup.connectionName, 'carol', 'like PostgreSQL, the database defaults to the user name');
    assert.deepEqual(splitStartup(new Map([['options', '-cportcullis.trace_id=t2']])).upstream, {});
    assert.equal(splitStartup(new Map([['options', '--portcullis.trace-id=t3']])).traceId, 't3');
  });
});
