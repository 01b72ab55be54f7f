// Shared helpers for the Node integration tests: a local AWS stack
// (test/stack/start, test/stack/stop) and AWS SDK v3 clients for it.
//
//   import { before, after } from 'node:test';
//   import { startStack } from './lib/stack.mjs';
//   let stack;
//   before(async () => { stack = await startStack(); });
//   after(async () => { await stack?.stop(); });

// The SDK warns that releases after January 2027 need Node 22 (pinned here).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { S3Client } from '@aws-sdk/client-s3';
import {
  SQSClient,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  PurgeQueueCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const execFileP = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const START = path.join(REPO_ROOT, 'test/stack/start');
export const STOP = path.join(REPO_ROOT, 'test/stack/stop');

/**
 * Parses the `export NAME='value'` lines printed by test/stack/start
 * (values single-quoted the POSIX shell way, `'` written as '\'').
 */
export function parseExports(text) {
  const env = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected line from test/stack/start: ${JSON.stringify(line)}`);
    const [, name, raw] = m;
    let value = '';
    let i = 0;
    while (i < raw.length) {
      if (raw[i] === "'") {
        const end = raw.indexOf("'", i + 1);
        if (end < 0) throw new Error(`unterminated quote in ${JSON.stringify(line)}`);
        value += raw.slice(i + 1, end);
        i = end + 1;
      } else if (raw[i] === '\\' && i + 1 < raw.length) {
        value += raw[i + 1];
        i += 2;
      } else {
        value += raw[i];
        i += 1;
      }
    }
    env[name] = value;
  }
  return env;
}

/** SDK v3 clients for a stack's environment (path-style S3). */
export function makeClients(env) {
  const common = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
  const s3 = new S3Client({ ...common, endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
  const sqs = new SQSClient({ ...common, endpoint: env.AWS_ENDPOINT_URL_SQS });
  const ddb = new DynamoDBClient({ ...common, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
  const doc = DynamoDBDocumentClient.from(ddb);
  return { s3, sqs, ddb, doc };
}

/**
 * Starts a stack. Resolves to
 *   { env, s3, sqs, ddb, doc, pid, stderr, stop() }
 * env: the exported variables (AWS_ENDPOINT_URL_S3, ..., PHOTOFINISH_STACK_DIR);
 * pid: the launcher's pid (= its process group id);
 * stop(): stops the stack (idempotent).
 * The stack also stops by itself if this process dies (parentPid).
 */
export async function startStack({ parentPid = process.pid, extraEnv = {} } = {}) {
  const { stdout, stderr } = await execFileP(START, [], {
    env: { ...process.env, PHOTOFINISH_STACK_PARENT_PID: String(parentPid), ...extraEnv },
    timeout: 60000,
    maxBuffer: 1024 * 1024,
  });
  const env = parseExports(stdout);
  const pid = Number(readFileSync(path.join(env.PHOTOFINISH_STACK_DIR, 'launcher.pid'), 'utf8').trim());
  const clients = makeClients(env);
  let stopped = null;
  const stop = () => {
    stopped ??= (async () => {
      for (const c of [clients.s3, clients.sqs, clients.ddb]) c.destroy();
      await execFileP(STOP, [env.PHOTOFINISH_STACK_DIR], { timeout: 30000 });
    })();
    return stopped;
  };
  return { env, ...clients, pid, stderr, stop };
}

/**
 * Receives messages from a queue for up to waitMs (long polling), deleting
 * them unless { keep: true }. Returns as soon as `count` messages have
 * arrived, if given; otherwise once waitMs has passed (so it also proves
 * that nothing else arrived). Each message is the SDK's Message object.
 */
export async function receiveAll(sqs, queueUrl, { waitMs = 1000, count = Infinity, keep = false, visibilityTimeout } = {}) {
  const out = [];
  const deadline = Date.now() + waitMs;
  for (;;) {
    const remaining = deadline - Date.now();
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: remaining > 0 ? Math.min(20, Math.ceil(remaining / 1000)) : 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ...(visibilityTimeout !== undefined ? { VisibilityTimeout: visibilityTimeout } : {}),
      }),
    );
    const msgs = r.Messages ?? [];
    out.push(...msgs);
    if (msgs.length && !keep) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    if (out.length >= count) return out;
    if (!msgs.length && Date.now() >= deadline) return out;
  }
}

/** Deletes every message of a queue (visible or in flight). */
export async function purge(sqs, queueUrl) {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
}

/**
 * Calls predicate() (sync or async) until it returns a truthy value, and
 * resolves to that value; rejects after timeoutMs with the last error.
 */
export async function waitFor(predicate, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The S3 event records carried by SQS messages (test events skipped). */
export function s3Records(messages) {
  return messages.flatMap((m) => JSON.parse(m.Body).Records ?? []);
}

/** Decodes an event's object key the way S3 encoded it ("+" is a space). */
export function decodeEventKey(encoded) {
  return decodeURIComponent(encoded.replaceAll('+', ' '));
}

/** True while a live (non-zombie) process with this pid exists. */
export function processAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}
