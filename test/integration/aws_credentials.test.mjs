// The C credentials chain (environment, shared files, ECS container endpoint,
// EC2 IMDSv2) against a test-local HTTP server that serves the credential
// JSON and also plays S3, so the test sees which credentials signed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { baseEnv, drive, driveOk } from './aws_driver.mjs';

const SECRET = 'wJalrXUtnFEMI-test-secret-never-printed';
const TOKEN = 'session-token-never-printed';
const AUTH = 'container-auth-never-printed';

let server;
let base;
let log = [];
let tmp;
let credsJson = () => ({});

function expiresIn(ms) {
  return new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'pf-aws-creds-'));
  server = http.createServer((req, res) => {
    log.push({ method: req.method, url: req.url, headers: req.headers });
    const json = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
    };
    if (req.url === '/ecs/creds') {
      if (req.headers.authorization !== AUTH) return json(401, { message: 'bad token' });
      return json(200, credsJson());
    }
    if (req.url === '/latest/api/token') {
      if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return json(400, '');
      res.writeHead(200);
      return res.end('IMDS-TOKEN-123');
    }
    if (req.url.startsWith('/latest/meta-data/iam/security-credentials/')) {
      if (req.headers['x-aws-ec2-metadata-token'] !== 'IMDS-TOKEN-123') return json(401, '');
      if (req.url.endsWith('/')) {
        res.writeHead(200);
        return res.end('photofinish-role\n');
      }
      if (req.url.endsWith('/photofinish-role')) return json(200, { Code: 'Success', Type: 'AWS-HMAC', ...credsJson() });
      return json(404, '');
    }
    // anything else is an S3 GET of /bucket/key
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const s3Requests = () => log.filter((l) => l.url.startsWith('/bucket-a/'));
const env = (extra) => baseEnv({ AWS_REGION: 'us-west-2', AWS_ENDPOINT_URL_S3: base, ...extra });

function assertNoSecrets(r) {
  const all = JSON.stringify(r.out) + r.stderr;
  for (const s of [SECRET, TOKEN, AUTH]) assert.ok(!all.includes(s), `secret leaked: ${s.slice(0, 12)}...`);
}

function assertSignedWith(akid, token) {
  const reqs = s3Requests();
  assert.ok(reqs.length >= 1, 'the S3 request was sent');
  const h = reqs.at(-1).headers;
  assert.match(h.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=${akid}/\\d{8}/us-west-2/s3/aws4_request`));
  assert.equal(h['x-amz-security-token'], token);
  if (token) assert.match(h.authorization, /x-amz-security-token/);
}

describe('credentials chain', () => {
  test('environment', async () => {
    log = [];
    const r = await drive(['get', 'bucket-a', 'k'], env({ AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN }));
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assertSignedWith('AKIDENV', TOKEN);
    const c = await drive(['creds'], env({ AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: SECRET }));
    assert.equal(c.out.source, 'environment');
    assert.equal(c.out.access_key_id, 'AKIDENV');
    assert.equal(c.out.expiration_ms, 0);
    assertNoSecrets(r);
  });

  test('shared credentials file with AWS_PROFILE', async () => {
    log = [];
    const file = path.join(tmp, 'credentials');
    writeFileSync(file, `[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = x\n\n[race]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = ${SECRET}\n`);
    const e = env({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: path.join(tmp, 'none'), AWS_PROFILE: 'race' });
    const r = await drive(['get', 'bucket-a', 'k'], e);
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assertSignedWith('AKIDPROFILE', undefined);
    const c = await driveOk(['creds'], e);
    assert.equal(c.source, 'shared-file');
    assertNoSecrets(r);
  });

  test('ECS container endpoint (FULL_URI with an authorization token)', async () => {
    log = [];
    credsJson = () => ({ AccessKeyId: 'ASIAECS', SecretAccessKey: SECRET, Token: TOKEN, Expiration: expiresIn(3600_000) });
    const e = env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: AUTH });
    const r = await drive(['get', 'bucket-a', 'k'], e);
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assertSignedWith('ASIAECS', TOKEN);
    const credReqs = log.filter((l) => l.url === '/ecs/creds');
    assert.equal(credReqs.length, 1, 'one fetch, then cached');
    assert.equal(credReqs[0].headers.authorization, AUTH);
    const c = await driveOk(['creds'], e);
    assert.equal(c.source, 'ecs');
    assert.equal(c.access_key_id, 'ASIAECS');
    assert.equal(c.has_session_token, true);
    assert.ok(Math.abs(c.expiration_ms - (Date.now() + 3600_000)) < 10_000);
    assertNoSecrets(r);
    assertNoSecrets({ out: c, stderr: '' });
  });

  test('ECS container endpoint with the token in a file', async () => {
    log = [];
    const tokenFile = path.join(tmp, 'token');
    writeFileSync(tokenFile, `${AUTH}\n`);
    credsJson = () => ({ AccessKeyId: 'ASIAFILE', SecretAccessKey: SECRET, Token: TOKEN, Expiration: expiresIn(3600_000) });
    const r = await drive(['get', 'bucket-a', 'k'], env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile }));
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assertSignedWith('ASIAFILE', TOKEN);
  });

  test('ECS endpoint refusing the token: a typed error and no S3 request', async () => {
    log = [];
    const r = await drive(['get', 'bucket-a', 'k'], env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'wrong' }));
    assert.equal(r.status, 2);
    assert.equal(r.out.error.http_status, 401);
    assert.match(r.out.error.message, /credentials/);
    assert.equal(s3Requests().length, 0);
  });

  test('a FULL_URI to a host that is not allowed is refused without a request', async () => {
    log = [];
    const r = await drive(['creds'], env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://192.0.2.10/creds' }));
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'invalid');
    assert.equal(log.length, 0);
  });

  test('temporary credentials close to expiry are refreshed once, in the background', async () => {
    log = [];
    let n = 0;
    credsJson = () => ({ AccessKeyId: `ASIAREFRESH${++n}`, SecretAccessKey: SECRET, Token: TOKEN, Expiration: expiresIn(120_000) });
    const r = await drive(['creds-refresh'], env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: AUTH }));
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assert.equal(r.out.access_key_id, 'ASIAREFRESH1');
    assert.equal(r.out.access_key_id_after, 'ASIAREFRESH2');
    assert.equal(log.filter((l) => l.url === '/ecs/creds').length, 2, 'exactly one refresh for three uses');
    assertNoSecrets(r);
  });

  test('concurrent requests share one credentials fetch', async () => {
    log = [];
    credsJson = () => ({ AccessKeyId: 'ASIASHARED', SecretAccessKey: SECRET, Token: TOKEN, Expiration: expiresIn(3600_000) });
    const r = await drive(['get', 'bucket-a', 'k', '--repeat', '5'], env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/ecs/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: AUTH }));
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assert.equal(s3Requests().length, 5);
    assert.equal(log.filter((l) => l.url === '/ecs/creds').length, 1);
  });

  test('EC2 IMDSv2: token, role, credentials', async () => {
    log = [];
    credsJson = () => ({ AccessKeyId: 'ASIAIMDS', SecretAccessKey: SECRET, Token: TOKEN, Expiration: expiresIn(6 * 3600_000) });
    const e = env({ AWS_EC2_METADATA_SERVICE_ENDPOINT: base });
    delete e.AWS_EC2_METADATA_DISABLED;
    const r = await drive(['get', 'bucket-a', 'k'], e);
    assert.equal(r.status, 0, JSON.stringify(r.out.error));
    assertSignedWith('ASIAIMDS', TOKEN);
    assert.deepEqual(
      log.filter((l) => l.url.startsWith('/latest/')).map((l) => `${l.method} ${l.url}`),
      ['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', 'GET /latest/meta-data/iam/security-credentials/photofinish-role'],
    );
    assert.equal(log[0].headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600');
    const c = await driveOk(['creds'], e);
    assert.equal(c.source, 'imds');
    assertNoSecrets(r);
  });

  test('nothing configured and IMDS disabled: a typed error, no request at all', async () => {
    log = [];
    const r = await drive(['get', 'bucket-a', 'k'], env({}));
    assert.equal(r.status, 2);
    assert.equal(r.out.error.service_code, 'NoCredentials');
    assert.match(r.out.error.message, /no AWS credentials/);
    assert.equal(log.length, 0);
  });
});
