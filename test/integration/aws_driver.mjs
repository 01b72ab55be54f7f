// Helpers for the aws_*.test.mjs integration tests: run build/tools/aws_driver
// (PHOTOFINISH_BIN_DIR, default build/) and parse the JSON object it prints.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN_DIR = process.env.PHOTOFINISH_BIN_DIR
  ? path.resolve(ROOT, process.env.PHOTOFINISH_BIN_DIR)
  : path.join(ROOT, 'build');
export const DRIVER = path.join(BIN_DIR, 'tools/aws_driver');

// Variables of the developer's shell that would change the chain under test.
const SCRUB = [
  'AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT', 'AWS_EC2_METADATA_DISABLED',
  'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE',
];

export function baseEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of SCRUB) delete env[k];
  // never let a test reach a real metadata service
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.HOME = '/nonexistent';
  return { ...env, ...extra };
}

/**
 * Runs the driver; resolves to { status, out, stderr } where out is the
 * parsed JSON line. Never rejects on a failed operation (status 2).
 */
export function drive(args, env, { timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(DRIVER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      let out;
      try {
        out = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        reject(new Error(`aws_driver ${args[0]}: no JSON (status ${status}): ${stdout}\n${stderr}`));
        return;
      }
      resolve({ status, out, stderr });
    });
  });
}

/** Runs the driver and asserts success; resolves to the JSON object. */
export async function driveOk(args, env, opts) {
  const r = await drive(args, env, opts);
  if (r.status !== 0 || !r.out.ok) {
    throw new Error(`aws_driver ${args.join(' ').slice(0, 200)} failed: ${JSON.stringify(r.out.error)}\n${r.stderr}`);
  }
  return r.out;
}

/** The stack's environment for the driver. */
export function stackEnv(stack, extra = {}) {
  const e = stack.env;
  return baseEnv({
    AWS_REGION: e.AWS_REGION,
    AWS_ACCESS_KEY_ID: e.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: e.AWS_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL_S3: e.AWS_ENDPOINT_URL_S3,
    AWS_ENDPOINT_URL_SQS: e.AWS_ENDPOINT_URL_SQS,
    AWS_ENDPOINT_URL_DYNAMODB: e.AWS_ENDPOINT_URL_DYNAMODB,
    ...extra,
  });
}
