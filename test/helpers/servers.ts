// Real peer servers for tests, on 127.0.0.1 only: nginx (autoindex HTML or JSON) and
// python3 -m http.server (which ignores Range). Each is started in its own temp folder.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${what} did not start at ${url}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
}

/** nginx serving `root` with autoindex; `options.limitRate` throttles each connection (bytes/s). */
export async function startNginx(root: string, options: { json?: boolean; limitRate?: number } = {}): Promise<RunningServer> {
  const prefix = await mkdtemp(join(tmpdir(), 'reelpack-nginx-'));
  await mkdir(join(prefix, 'logs'));
  const port = await freePort();
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  types { video/mp4 mp4; application/json json; text/plain txt; }
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / {
      autoindex on;
      ${options.json ? 'autoindex_format json;' : ''}
      ${options.limitRate ? `limit_rate ${options.limitRate};` : ''}
    }
  }
}`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, child, 'nginx');
  return {
    url,
    close: async () => {
      await stop(child);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

/** python3 -m http.server: HTML listings, and no Range support (every GET is a 200). */
export async function startPythonHttpServer(root: string): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, child, 'python3 http.server');
  return { url, close: () => stop(child) };
}

export async function tempDir(prefix = 'reelpack-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
