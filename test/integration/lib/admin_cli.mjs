// Runs `photofinish admin` as an operator would: piped (scripts) or on a
// pseudo-terminal made by util-linux `script` (prompts, progress bars).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './stack.mjs';

export const CLI = path.resolve(REPO_ROOT, process.env.PHOTOFINISH_BIN_DIR ?? 'build', 'photofinish');

const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/**
 * Runs `photofinish admin ARGS` against url with the token in the
 * environment (never in argv). { input } is written to stdin; { tty: true }
 * runs it on a pseudo-terminal (stdin and stdout are terminals; the output
 * then also echoes the input). Resolves to { code, stdout, stderr, out } where
 * out is stdout+stderr for tty runs.
 */
export function admin(url, token, args, { input = '', tty = false, env = {}, timeoutMs = 120000 } = {}) {
  const fullEnv = {
    PATH: process.env.PATH,
    PHOTOFINISH_ADMIN_URL: url,
    ...(token ? { PHOTOFINISH_ADMIN_TOKEN: token } : {}),
    ...env,
  };
  const [cmd, argv] = tty
    ? ['script', ['-qec', [CLI, 'admin', ...args].map(quote).join(' '), '/dev/null']]
    : [CLI, ['admin', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...fullEnv, TERM: 'dumb', COLUMNS: '100' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, out: stdout + stderr });
    });
    // A prompt is answered after it is shown, as a person would.
    if (input) setTimeout(() => child.stdin.end(input), tty ? 300 : 0);
    else if (!tty) child.stdin.end();
    else setTimeout(() => child.stdin.end(), 300);
  });
}

/** Parses the JSON lines of a --json run. */
export const jsonLines = (text) => text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
