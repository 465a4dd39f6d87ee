import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failureFromResponse } from './errors.js';
import { queryString } from './client.js';

describe('API errors in words', () => {
  it('tells a missing endpoint from a missing record', () => {
    const route = failureFromResponse(
      404,
      { statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/v1/identities' },
      'GET',
      '/api/v1/identities',
    );
    assert.equal(route.kind, 'missing-endpoint');
    assert.match(route.message, /does not offer GET \/api\/v1\/identities yet/);
    const record = failureFromResponse(
      404,
      { statusCode: 404, error: 'Not Found', message: 'connection "x" not found' },
      'GET',
      '/api/v1/connections/x',
    );
    assert.equal(record.kind, 'not-found');
    assert.equal(record.message, 'connection "x" not found');
  });

  it('keeps field issues of a 400 for messages next to the fields', () => {
    const f = failureFromResponse(
      400,
      {
        statusCode: 400,
        error: 'Bad Request',
        message: 'invalid body',
        issues: [
          { path: 'target', message: 'must be a URL' },
          { path: 'networkLabels.0', message: 'bad label' },
        ],
      },
      'POST',
      '/api/v1/connections',
    );
    assert.equal(f.kind, 'invalid');
    assert.deepEqual(f.issuesFor('target'), ['must be a URL']);
    assert.deepEqual(f.issuesFor('networkLabels'), ['bad label']);
  });

  it('explains 403 with the server message, and a proxy 502 as an unreachable control plane', () => {
    const denied = failureFromResponse(
      403,
      { statusCode: 403, error: 'Forbidden', message: 'needs one of the roles: admin' },
      'POST',
      '/api/v1/grants',
    );
    assert.equal(denied.kind, 'forbidden');
    assert.match(denied.message, /needs one of the roles: admin/);
    assert.equal(failureFromResponse(502, undefined, 'GET', '/api/v1/agents').kind, 'unreachable');
  });

  it("tells a control plane that explains a 503/504 (no agent answered) from a proxy's", () => {
    const explained = failureFromResponse(
      503,
      { statusCode: 503, error: 'Service Unavailable', message: 'no online agent serves connection "x"' },
      'POST',
      '/api/v1/connections/x/test',
    );
    assert.equal(explained.kind, 'unavailable');
    assert.equal(explained.message, 'no online agent serves connection "x"');
    assert.equal(failureFromResponse(504, '<html>Gateway Timeout</html>', 'POST', '/api/v1/x').kind, 'unreachable');
  });
});

describe('query strings', () => {
  it('leaves out empty values and encodes the rest', () => {
    assert.equal(
      queryString({ subject: 'a b', connection: '', cursor: undefined, limit: 50 }),
      '?subject=a+b&limit=50',
    );
    assert.equal(queryString({}), '');
  });
});
