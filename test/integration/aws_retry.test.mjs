// Retries, typed errors, clock-skew correction and connection reuse of the C
// AWS transport, against a test-local HTTP server that plays S3/DynamoDB and
// misbehaves on purpose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { baseEnv, drive, driveOk } from './aws_driver.mjs';

let server;
let url;
let script = []; // responses still to give: (req, body) => [status, headers, body] or 'hang'
let fallback = () => [200, {}, 'ok'];
let seen = [];
let sockets = 0;

function httpDate(ms) {
  return new Date(ms).toUTCString();
}

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ at: performance.now(), method: req.method, url: req.url, headers: req.headers });
      const step = script.length ? script.shift() : fallback;
      const r = step(req, body);
      if (r === 'hang') return;
      const [status, headers, text] = r;
      res.writeHead(status, { date: httpDate(Date.now()), ...headers });
      res.end(text);
    });
  });
  server.on('connection', () => sockets++);
  server.keepAliveTimeout = 10000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.closeAllConnections();
  server?.close();
});

function reset(steps, fb = () => [200, {}, 'ok']) {
  script = [...steps];
  fallback = fb;
  seen = [];
  sockets = 0;
}

const env = (extra = {}) =>
  baseEnv({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDRETRYTEST',
    AWS_SECRET_ACCESS_KEY: 'retry-secret',
    AWS_ENDPOINT_URL: url,
    ...extra,
  });

const s3Error = (status, code, rid = 'RID-1') => () => [
  status,
  { 'content-type': 'application/xml', 'x-amz-request-id': rid },
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} happened</Message><RequestId>${rid}</RequestId></Error>`,
];
const ddbError = (status, code) => () => [
  status,
  { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'DDB-RID' },
  JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: `${code} happened` }),
];
const gaps = () => seen.slice(1).map((s, i) => s.at - seen[i].at);

describe('retries (standard mode)', () => {
  test('503 twice then success: 3 attempts with growing delays on one connection', async () => {
    reset([s3Error(503, 'ServiceUnavailable'), s3Error(503, 'ServiceUnavailable')], () => [200, { 'content-length': '5' }, 'hello']);
    const r = await driveOk(['get', 'bucket-a', 'k'], env({ PF_AWS_NO_JITTER: '1' }));
    assert.equal(r.body, 'hello');
    assert.equal(seen.length, 3);
    assert.equal(r.calls[0].attempts, 3);
    assert.equal(r.calls[0].outcome, 'success');
    assert.equal(r.stats.s3.retries, 2);
    assert.equal(r.stats.s3.attempts, 3);
    const [g1, g2] = gaps();
    // backoff ceilings without jitter: 100 ms then 200 ms
    assert.ok(g1 >= 95 && g1 < 600, `first delay ${g1}`);
    assert.ok(g2 >= 195 && g2 < 800, `second delay ${g2}`);
    assert.ok(g2 > g1, 'delays grow');
    assert.equal(sockets, 1, 'the connection is kept alive across attempts');
    assert.equal(r.stats.retry_quota, 495, 'two retries took 10 tokens, the success refunds the last 5');
  });

  test('with jitter the delays stay within the exponential ceilings', async () => {
    reset([s3Error(500, 'InternalError'), s3Error(500, 'InternalError')]);
    const r = await driveOk(['get', 'bucket-a', 'k'], env());
    assert.equal(seen.length, 3);
    const [g1, g2] = gaps();
    assert.ok(g1 < 100 + 150, `first delay ${g1}`);
    assert.ok(g2 < 200 + 150, `second delay ${g2}`);
    assert.equal(r.calls[0].attempts, 3);
  });

  test('DynamoDB throttling twice then success uses the throttling backoff', async () => {
    reset([ddbError(400, 'ThrottlingException'), ddbError(400, 'ProvisionedThroughputExceededException')], () => [
      200,
      { 'content-type': 'application/x-amz-json-1.0' },
      JSON.stringify({ Item: { pk: { S: 'a' } } }),
    ]);
    const r = await driveOk(['ddb-get', 'tbl', JSON.stringify({ pk: { S: 'a' } })], env({ PF_AWS_NO_JITTER: '1' }));
    assert.deepEqual(r.response, { pk: { S: 'a' } });
    assert.equal(r.calls[0].attempts, 3);
    assert.equal(r.stats.dynamodb.throttled, 2);
    const [g1, g2] = gaps();
    assert.ok(g1 >= 495 && g1 < 1200, `first delay ${g1}`);
    assert.ok(g2 >= 995 && g2 < 1800, `second delay ${g2}`);
    assert.equal(seen[0].headers['x-amz-target'], 'DynamoDB_20120810.GetItem');
  });

  test('SQS throttling codes are retried too', async () => {
    reset([() => [400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'RequestThrottled;Sender' }, JSON.stringify({ __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' })]], () => [
      200,
      { 'content-type': 'application/x-amz-json-1.0' },
      JSON.stringify({ Messages: [] }),
    ]);
    const r = await driveOk(['sqs-receive', `${url}/000000000000/q`], env());
    assert.equal(r.calls[0].attempts, 2);
    assert.equal(r.stats.sqs.throttled, 1);
  });

  test('always failing: the final typed error after 3 attempts', async () => {
    reset([], s3Error(500, 'InternalError', 'RID-FINAL'));
    const r = await drive(['get', 'bucket-a', 'k'], env());
    assert.equal(r.status, 2);
    assert.equal(seen.length, 3);
    assert.deepEqual(r.out.error, {
      code: 'aws',
      errno: -5,
      http_status: 500,
      retryable: true,
      service_code: 'InternalError',
      request_id: 'RID-FINAL',
      message: 's3: HTTP 500 InternalError: InternalError happened',
    });
    assert.equal(r.out.calls[0].outcome, 'server_error');
    assert.equal(r.out.calls[0].attempts, 3);
    assert.equal(r.out.stats.retry_quota, 490, 'two retries cost 5 tokens each');
  });

  test('SlowDown is reported as throttled after the last attempt', async () => {
    reset([], s3Error(503, 'SlowDown'));
    const r = await drive(['put', 'bucket-a', 'k', '--data', 'x'], env({ PF_AWS_MAX_ATTEMPTS: '2' }));
    assert.equal(seen.length, 2);
    assert.equal(r.out.error.service_code, 'SlowDown');
    assert.equal(r.out.calls[0].outcome, 'throttled');
    assert.equal(seen[1].headers['content-length'], '1', 'the body is sent again');
  });

  test('client errors are not retried', async () => {
    reset([], s3Error(403, 'AccessDenied'));
    const r = await drive(['get', 'bucket-a', 'k'], env());
    assert.equal(seen.length, 1);
    assert.equal(r.out.error.code, 'aws');
    assert.equal(r.out.error.service_code, 'AccessDenied');
    assert.equal(r.out.error.retryable, false);
    assert.equal(r.out.calls[0].outcome, 'client_error');
  });

  test('a HEAD error without a body is typed from the status', async () => {
    reset([], () => [404, { 'x-amz-request-id': 'HEAD-RID' }, '']);
    const r = await drive(['head', 'bucket-a', 'k'], env());
    assert.equal(r.out.error.code, 'not_found');
    assert.equal(r.out.error.service_code, 'NotFound');
    assert.equal(r.out.error.request_id, 'HEAD-RID');
  });

  test('a timeout is a retryable network error after 3 attempts', async () => {
    reset([], () => 'hang');
    const r = await drive(['get', 'bucket-a', 'k'], env({ PF_AWS_TIMEOUT_MS: '300' }));
    assert.equal(r.status, 2);
    assert.equal(seen.length, 3);
    assert.equal(r.out.error.code, 'network');
    assert.equal(r.out.error.retryable, true);
    assert.equal(r.out.calls[0].outcome, 'network');
    assert.equal(r.out.stats.retry_quota, 480, 'timeouts cost 10 tokens per retry');
    server.closeAllConnections();
  });

  test('connection refused is a network error after 3 attempts', async () => {
    const dead = http.createServer();
    await new Promise((r) => dead.listen(0, '127.0.0.1', r));
    const port = dead.address().port;
    await new Promise((r) => dead.close(r));
    const r = await drive(['get', 'bucket-a', 'k'], env({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }));
    assert.equal(r.out.error.code, 'network');
    assert.equal(r.out.calls[0].attempts, 3);
  });
});

describe('clock skew', () => {
  test('RequestTimeTooSkewed: offset learnt from Date, request re-signed and retried', async () => {
    const ahead = 3600 * 1000;
    reset([
      (req) => [403, { 'content-type': 'application/xml', date: httpDate(Date.now() + ahead) }, '<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>'],
    ], (req) => {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(req.headers['x-amz-date']);
      const signed = Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]);
      const skew = Math.abs(signed - (Date.now() + ahead));
      return skew < 5 * 60 * 1000 ? [200, {}, 'in time'] : s3Error(403, 'RequestTimeTooSkewed')();
    });
    const r = await driveOk(['get', 'bucket-a', 'k'], env());
    assert.equal(r.body, 'in time');
    assert.equal(r.stats.clock_skew_corrections, 1);
    assert.ok(Math.abs(r.stats.clock_offset_s - 3600) <= 2, `offset ${r.stats.clock_offset_s}`);
    assert.notEqual(seen[0].headers.authorization, seen[1].headers.authorization, 're-signed');
  });

  test('a signature error without skew is not retried', async () => {
    reset([], s3Error(403, 'SignatureDoesNotMatch'));
    const r = await drive(['get', 'bucket-a', 'k'], env());
    assert.equal(seen.length, 1);
    assert.equal(r.out.error.service_code, 'SignatureDoesNotMatch');
    assert.equal(r.out.stats.clock_skew_corrections, 0);
  });
});

describe('requests on the wire', () => {
  test('S3 requests are signed with the payload hash, keys encoded once, path-style on an override', async () => {
    reset([], () => [200, { etag: '"abc"' }, '']);
    await driveOk(['put', 'bucket-a', 'a b/ü+%.jpg', '--data', 'payload', '--content-type', 'image/jpeg', '--cache-control', 'max-age=60'], env());
    const h = seen[0].headers;
    assert.equal(seen[0].url, '/bucket-a/a%20b/%C3%BC%2B%25.jpg');
    assert.equal(h['x-amz-content-sha256'], '239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5');
    assert.match(h.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDRETRYTEST\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*cache-control;content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    assert.equal(h['content-type'], 'image/jpeg');
    assert.equal(h['cache-control'], 'max-age=60');
    assert.equal(h.expect, undefined);
    assert.equal(h.host, `127.0.0.1:${server.address().port}`);
  });

  test('DeleteObjects sends Content-MD5 and reports per-key errors', async () => {
    reset([], (req, body) => {
      assert.match(body, /<Key>a &amp; b<\/Key>/);
      return [200, { 'content-type': 'application/xml' },
        '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>a &amp; b</Key></Deleted><Error><Key>locked</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>'];
    });
    const r = await driveOk(['delete-objects', 'bucket-a', 'a & b', 'locked'], env());
    assert.equal(r.deleted, 1);
    assert.deepEqual(r.errors, [{ key: 'locked', code: 'AccessDenied', message: 'Access Denied' }]);
    assert.match(seen[0].headers['content-md5'], /^[A-Za-z0-9+/]{22}==$/);
    assert.equal(seen[0].url, '/bucket-a?delete=');
  });

  test('a 200 CompleteMultipartUpload carrying an error document is an error', async () => {
    reset([
      () => [200, {}, '<InitiateMultipartUploadResult><Bucket>bucket-a</Bucket><Key>k</Key><UploadId>UP-1</UploadId></InitiateMultipartUploadResult>'],
      () => [200, { etag: '"p1"' }, ''],
    ], () => [200, {}, '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>']);
    const file = new URL('./aws_driver.mjs', import.meta.url).pathname;
    const r = await drive(['multipart', 'bucket-a', 'k', '--file', file], env());
    assert.equal(r.status, 2);
    assert.equal(r.out.error.service_code, 'InternalError');
    assert.equal(r.out.error.retryable, true);
    assert.equal(seen[1].url, '/bucket-a/k?partNumber=1&uploadId=UP-1');
  });
});
