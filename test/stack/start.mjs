// test/stack/start: starts a local AWS stack in the background and prints
// `export NAME='value'` lines for it on stdout (nothing else goes to stdout).
// Usage: eval "$(test/stack/start)"   ...   test/stack/stop
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const testDir = path.dirname(here);
const launcher = path.join(here, 'launcher.mjs');
const t0 = Date.now();

// The order in which the variables are printed.
export const EXPORTED = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'PHOTOFINISH_INGRESS_BUCKET',
  'PHOTOFINISH_PROCESSED_BUCKET',
  'PHOTOFINISH_TABLE',
  'PHOTOFINISH_QUEUE_URL',
  'PHOTOFINISH_DLQ_URL',
  'PHOTOFINISH_STACK_DIR',
];

function say(msg) {
  process.stderr.write(`photofinish stack: ${msg}\n`);
}

function shellQuote(value) {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

function fail(msg, dir, logTail) {
  say(`FAILED: ${msg}`);
  if (logTail) {
    process.stderr.write(`--- end of launcher log ---\n${logTail}\n---\n`);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}

for (const mod of ['fauxqs', 'dynalite', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@aws-sdk/client-dynamodb']) {
  if (!existsSync(path.join(testDir, 'node_modules', mod, 'package.json'))) {
    fail(`${mod} is not installed in ${path.join(testDir, 'node_modules')}; run: npm ci --prefix test`);
  }
}

const timeoutMs = Number(process.env.PHOTOFINISH_STACK_START_TIMEOUT_MS || 20000);

// mkdtemp creates the directory with mode 0700.
const dir = mkdtempSync(path.join(os.tmpdir(), 'photofinish-stack-'));
writeFileSync(path.join(dir, '.photofinish-stack'), 'created by test/stack/start; removed by test/stack/stop\n');
const logPath = path.join(dir, 'launcher.log');
const logFd = openSync(logPath, 'a');

say(`starting (dir ${dir})`);

// detached: the launcher gets its own session and process group (pgid = its
// pid); stop signals that group. Its stdout/stderr go to the log file only:
// holding our stdout would keep "$(test/stack/start)" waiting forever.
const child = spawn(process.execPath, [launcher, '--dir', dir], {
  cwd: testDir,
  detached: true,
  stdio: ['ignore', logFd, logFd, 'ipc'],
  env: process.env,
});
closeSync(logFd);
writeFileSync(path.join(dir, 'launcher.pid'), `${child.pid}\n`);

function logTail() {
  try {
    const text = readFileSync(logPath, 'utf8').trimEnd().split('\n');
    return text.slice(-30).join('\n');
  } catch {
    return '';
  }
}

let settled = false;
let exited = false;
child.on('exit', () => {
  exited = true;
});

function killGroup() {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function abort(msg) {
  if (settled) return;
  settled = true;
  killGroup();
  if (!exited) {
    await new Promise((resolve) => {
      child.once('exit', resolve);
      setTimeout(resolve, 3000).unref();
    });
  }
  fail(msg, dir, logTail());
}

const timer = setTimeout(() => abort(`not ready after ${timeoutMs} ms`), timeoutMs);

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => abort(`interrupted by ${sig}`));
}

child.on('error', (err) => abort(`cannot run the launcher: ${err.message}`));
child.on('exit', (code, signal) => {
  if (!settled) abort(`launcher exited during startup (${signal ?? `code ${code}`})`);
});

child.on('message', (msg) => {
  if (settled) return;
  if (msg?.type === 'error') {
    abort(msg.message);
    return;
  }
  if (msg?.type !== 'ready') return;
  settled = true;
  clearTimeout(timer);
  const env = msg.env;
  const missing = EXPORTED.filter((k) => !env[k]);
  if (missing.length) {
    killGroup();
    fail(`launcher did not report ${missing.join(', ')}`, dir, logTail());
  }
  const lines = EXPORTED.map((k) => `export ${k}=${shellQuote(env[k])}`).join('\n') + '\n';
  writeFileSync(path.join(dir, 'env'), lines);
  child.disconnect();
  child.unref();
  say(
    `ready in ${Date.now() - t0} ms: S3+SQS ${env.AWS_ENDPOINT_URL_S3}, DynamoDB ${env.AWS_ENDPOINT_URL_DYNAMODB}, pid ${child.pid}`,
  );
  process.stdout.write(lines, () => process.exit(0));
});
