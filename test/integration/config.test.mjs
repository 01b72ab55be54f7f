// photofinishd's configuration surface: --check-config, exit codes, docs in sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const bin = path.resolve(process.env.PHOTOFINISH_BIN_DIR ?? 'build', 'photofinishd');
const good = {
  PATH: process.env.PATH,
  PHOTOFINISH_INGRESS_BUCKET: 'race-ingress',
  PHOTOFINISH_PROCESSED_BUCKET: 'race-processed',
  PHOTOFINISH_TABLE: 'race-table',
  PHOTOFINISH_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q',
  AWS_REGION: 'eu-west-1',
};
const run = (env, args = ['--check-config']) => spawnSync(bin, args, { env, encoding: 'utf8' });

test('--check-config prints the effective configuration as JSON and exits 0', () => {
  const r = run({ ...good, PHOTOFINISH_ADMIN_TOKEN: 'a-very-secret-admin-token', PHOTOFINISH_WORKERS: '3' });
  assert.equal(r.status, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  assert.equal(cfg.PHOTOFINISH_INGRESS_BUCKET, 'race-ingress');
  assert.equal(cfg.PHOTOFINISH_WORKERS, 3);
  assert.equal(cfg.PHOTOFINISH_MAX_INFLIGHT, 6);
  assert.equal(cfg.PHOTOFINISH_LISTEN, '0.0.0.0:8080');
  assert.equal(cfg.PHOTOFINISH_ADMIN_TOKEN, '(redacted)');
  assert.ok(!r.stdout.includes('a-very-secret-admin-token'));
});

test('flags win over the environment', () => {
  const r = run({ ...good, PHOTOFINISH_WORKERS: '3' }, ['--check-config', '--workers', '7']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).PHOTOFINISH_WORKERS, 7);
});

test('bad and missing values exit 2 with one line per problem', () => {
  const env = { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', PHOTOFINISH_WORKERS: 'lots', PHOTOFINISH_JPEG_QUALITY: '0' };
  const r = run(env);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n').slice(1);
  assert.deepEqual(lines.map((l) => l.split(':')[0]).sort(), [
    'PHOTOFINISH_INGRESS_BUCKET', 'PHOTOFINISH_JPEG_QUALITY', 'PHOTOFINISH_PROCESSED_BUCKET',
    'PHOTOFINISH_QUEUE_URL', 'PHOTOFINISH_TABLE', 'PHOTOFINISH_WORKERS',
  ]);
  assert.match(r.stderr, /PHOTOFINISH_WORKERS: "lots" is not a whole number from 1 to 256/);
});

test('an unknown argument is a configuration error', () => {
  const r = run(good, ['--check-config', '--frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--frobnicate/);
});

test('--help lists every setting and docs/configuration.md documents each one', () => {
  const r = run({ PATH: process.env.PATH }, ['--help']);
  assert.equal(r.status, 0);
  const names = [...r.stdout.matchAll(/^\s+--\S+\s+((?:PHOTOFINISH|AWS)_[A-Z0-9_]+)$/gm)].map((m) => m[1]);
  assert.ok(names.length >= 30, `only ${names.length} settings in --help`);
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const missing = names.filter((n) => !doc.includes('`' + n + '`'));
  assert.deepEqual(missing, []);
});

test('--version', () => {
  const r = run({ PATH: process.env.PATH }, ['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^photofinishd \d+\.\d+\.\d+/);
});
