// A private Docker Engine for the Docker end-to-end tests: Debian's docker.io (installed when missing, as
// root), started with its own data root and socket, no bridge and no iptables (a sandboxed machine may
// allow neither). Containers
// use the host's network, where the test PostgreSQL listens. No image registry is reachable, so the Node base
// image is made from this machine's node and npm (test/docker/base-image.sh).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const BASE_IMAGE = 'smg-node-base:local';

export interface ServiceContainer {
  id: string;
  running: boolean;
  exitCode: number;
  env: Record<string, string>;
}

export interface DockerEngine {
  socket: string;
  /** Environment for docker and docker-compose commands aimed at this engine. */
  env: NodeJS.ProcessEnv;
  docker(args: string[], options?: { input?: string | Buffer; cwd?: string }): string;
  /** A container's output, stdout and stderr (where the gate logs) together. */
  logs(id: string): string;
  /** The container of a compose project's service (id '' and exit code -1 when there is none), with its state and variables. */
  service(project: string, service: string): ServiceContainer;
  stop(): Promise<void>;
}

function ensureInstalled(): void {
  if (existsSync('/usr/sbin/dockerd') && existsSync('/usr/bin/docker-compose')) return;
  if (userInfo().uid !== 0)
    throw new Error('the Docker tests need dockerd and docker-compose (apt-get install docker.io docker-compose), or root to install them');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'docker.io', 'docker-compose'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Starts dockerd. By default it shares this machine's network, without a bridge (containers use the host's
 * network, where the test PostgreSQL listens, and npm in a build reaches the registry). `privateNetwork`:
 * dockerd in a network namespace of its own, where it may make bridges: compose networks and service names
 * work as on a user's machine, but nothing outside the namespace is reachable (no registry, no test server).
 */
export async function startDockerEngine({ privateNetwork = false } = {}): Promise<DockerEngine> {
  ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'smg-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const namespace = privateNetwork ? `smg-${dir.slice(-6).toLowerCase()}` : null;
  if (namespace) {
    execFileSync('ip', ['netns', 'add', namespace]);
    execFileSync('nsenter', [`--net=/run/netns/${namespace}`, 'ip', 'link', 'set', 'lo', 'up']);
  }
  const daemon: ChildProcess = spawn(
    namespace ? 'nsenter' : 'dockerd',
    [
      ...(namespace ? [`--net=/run/netns/${namespace}`, 'dockerd'] : []),
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '-H',
      `unix://${socket}`,
      '--pidfile',
      join(dir, 'docker.pid'),
      ...(namespace ? [] : ['--bridge=none', '--iptables=false']),
    ],
    { stdio: ['ignore', log, log] },
  );
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const cli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
  const docker = (args: string[], options: { input?: string | Buffer; cwd?: string } = {}) =>
    execFileSync(cli, args, { env, input: options.input, cwd: options.cwd, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      docker(['version', '--format', '{{.Server.Version}}']);
      break;
    } catch (error) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`dockerd did not start (see ${dir}/dockerd.log): ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    socket,
    env,
    docker,
    service(project, service) {
      const labels = [`label=com.docker.compose.project=${project}`, `label=com.docker.compose.service=${service}`];
      const id = docker(['ps', '-aq', ...labels.flatMap((label) => ['--filter', label])])
        .trim()
        .split('\n')[0];
      if (!id) return { id: '', running: false, exitCode: -1, env: {} };
      const [state, env] = docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}|{{json .Config.Env}}', id]).trim().split('|');
      const [running, exitCode] = state.split(' ');
      const vars = (JSON.parse(env) as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
      return { id, running: running === 'true', exitCode: Number(exitCode), env: Object.fromEntries(vars) };
    },
    logs(id) {
      const run = spawnSync(cli, ['logs', id], { env, encoding: 'utf8' });
      return `${run.stdout}${run.stderr}`;
    },
    async stop() {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
      // dockerd leaves its network namespace mounted under the exec root.
      spawnSync('sh', ['-c', `grep -o ' ${dir}/[^ ]*' /proc/mounts | xargs -r -n1 umount -l`]);
      rmSync(dir, { recursive: true, force: true });
      if (namespace) spawnSync('ip', ['netns', 'delete', namespace]);
    },
  };
}

/** Copies an image from one engine to another (an engine with a private network cannot build from the registry). */
export function copyImage(from: DockerEngine, to: DockerEngine, image: string): void {
  const tarball = execFileSync(existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker', ['save', image], { env: from.env, maxBuffer: 1 << 30 });
  to.docker(['load', '-q'], { input: tarball });
}

/** An image from the root filesystem tarball a script writes to stdout, with Dockerfile-style `changes`. */
export function importImage(engine: DockerEngine, script: string, image: string, changes: string[]): void {
  const tarball = execFileSync('bash', [script], { maxBuffer: 1 << 30 });
  engine.docker(['import', ...changes.flatMap((change) => ['--change', change]), '-', image], { input: tarball });
}

/** The Node base image from this machine's node and npm, with its CA bundle (npm reaches the registry). */
export function importBaseImage(engine: DockerEngine, script: string): void {
  importImage(engine, script, BASE_IMAGE, [
    'ENV PATH=/usr/local/bin:/usr/bin:/bin',
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    'WORKDIR /app',
  ]);
}
