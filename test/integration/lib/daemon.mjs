// Starts the real photofinishd against a local stack for end-to-end tests.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT, waitFor } from './stack.mjs';

export const BIN_DIR = path.resolve(REPO_ROOT, process.env.PHOTOFINISH_BIN_DIR ?? 'build');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The environment the daemon needs from a stack (credentials, endpoints, resources). */
export function daemonEnv(stackEnv, extra = {}) {
  const keep = Object.entries(stackEnv).filter(([k]) => k.startsWith('AWS_') || k.startsWith('PHOTOFINISH_'));
  return {
    PATH: process.env.PATH,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...Object.fromEntries(keep),
    PHOTOFINISH_WORKERS: '2',
    PHOTOFINISH_LOG_LEVEL: 'info',
    ...extra,
  };
}

/**
 * Starts photofinishd; resolves once /readyz answers 200 (unless waitReady is false).
 * Returns { url, port, proc, logs (parsed JSON lines so far), lines (raw), exited (promise of
 * {code, signal}), stop(signal) }.
 */
export async function startDaemon(stackEnv, { env = {}, waitReady = true, timeoutMs = 20000 } = {}) {
  const port = await freePort();
  const fullEnv = daemonEnv(stackEnv, { PHOTOFINISH_LISTEN: `127.0.0.1:${port}`, ...env });
  const proc = spawn(path.join(BIN_DIR, 'photofinishd'), [], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const lines = [];
  let buf = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ unparsable: line });
      }
    }
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => { stderr += c; });
  // 'close', not 'exit': every line the daemon wrote has been read by then.
  const exited = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const d = {
    url, port, proc, logs, lines, exited, env: fullEnv,
    get stderr() { return stderr; },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  if (waitReady) {
    try {
      await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`photofinishd exited ${proc.exitCode}: ${stderr}${lines.join('\n')}`);
        const r = await fetch(`${url}/readyz`).catch(() => null);
        return r && r.status === 200;
      }, { timeoutMs, intervalMs: 100, what: 'photofinishd ready' });
    } catch (e) {
      await d.stop('SIGKILL');
      throw e;
    }
  }
  return d;
}

/** GET url and parse JSON; returns { status, headers, body }. */
export async function getJson(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: r.status, headers: r.headers, body };
}
