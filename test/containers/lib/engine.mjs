// The container engine for the image tests: the command line chosen by
// scripts/lib/engine.sh (test/containers/run passes it as PF_ENGINE) and the
// image references made by scripts/images (build/images/images.env).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../integration/lib/stack.mjs';

const execFileP = promisify(execFile);

export const ENGINE = (process.env.PF_ENGINE ?? '').split(' ').filter(Boolean);
if (!ENGINE.length) throw new Error('PF_ENGINE is not set (run through test/containers/run)');

/** { DAEMON_REF, GALLERY_REF, ENGINE_NAME } written by scripts/images. */
export function builtImages() {
  const file = path.join(REPO_ROOT, process.env.PF_IMAGES_ENV ?? 'build/images/images.env');
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Runs an engine subcommand; resolves to { code, stdout, stderr } (never rejects on exit status). */
export async function engine(args, { timeoutMs = 120000 } = {}) {
  try {
    const { stdout, stderr } = await execFileP(ENGINE[0], [...ENGINE.slice(1), ...args], {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Like engine() but throws unless the exit status is 0; resolves to stdout. */
export async function engineOk(args, opts) {
  const r = await engine(args, opts);
  if (r.code !== 0) throw new Error(`${ENGINE.join(' ')} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The image's configuration (User, ExposedPorts, Healthcheck, StopSignal, ...). */
export async function imageConfig(ref) {
  const [img] = JSON.parse(await engineOk(['image', 'inspect', ref]));
  // docker: .Config.Healthcheck; podman: top-level .Healthcheck.
  const config = img.Config ?? {};
  return { ...config, Healthcheck: config.Healthcheck ?? img.Healthcheck ?? null };
}

export async function inspectContainer(name) {
  const [c] = JSON.parse(await engineOk(['container', 'inspect', name]));
  return c;
}

/**
 * Starts a detached container on the host network, read-only, with a tmpfs
 * on /tmp (what ECS gives the task: readonlyRootFilesystem + a /tmp volume).
 * env: { NAME: value } passed with -e. Returns the container name.
 */
export async function runContainer(ref, { env = {}, prefix = 'pf-test', args = [] } = {}) {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await engineOk([
    'run', '-d', '--name', name, '--network', 'host',
    '--read-only', '--tmpfs', '/tmp:rw,nosuid,nodev,size=64m',
    ...envArgs, ...args, ref,
  ]);
  return name;
}

/** Removes a container whatever its state (for cleanup). */
export async function removeContainer(name) {
  // podman's rm -f waits the stop timeout unless told not to; docker's kills at once.
  const now = path.basename(ENGINE[0]) === 'podman' ? ['-t', '0'] : [];
  await engine(['rm', '-f', ...now, name]).catch(() => {});
}

export async function containerLogs(name) {
  const r = await engine(['logs', name]);
  return r.stdout + r.stderr;
}

/** The container's log lines parsed as JSON (lines that are not JSON are skipped). */
export async function jsonLogs(name) {
  const out = [];
  for (const line of (await containerLogs(name)).split('\n')) {
    try {
      out.push(JSON.parse(line));
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Runs a command inside a running container; resolves to { code, stdout, stderr }. */
export function exec(name, cmd, { user } = {}) {
  return engine(['exec', ...(user ? ['--user', user] : []), name, ...cmd]);
}
