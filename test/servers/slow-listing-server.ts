// A server that lists slowly, on 127.0.0.1, for tests of listing progress and stopping a
// listing: a results API answering each page after `pageDelayMs`, and /trickle/… answering a
// text body one byte every 100 ms, for ever (never a stall, never an end).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowListingServer {
  url: string;
  /** A URL list that never finishes arriving. */
  trickleUrl: string;
  close(): Promise<void>;
}

export async function startSlowListingServer(options: { pageSize: number; total: number; pageDelayMs: number }): Promise<SlowListingServer> {
  const { pageSize, total, pageDelayMs } = options;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/trickle')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('h'), 100);
      return void res.on('close', () => clearInterval(drip));
    }
    const page = Number(url.searchParams.get('page') ?? 1);
    const first = (page - 1) * pageSize;
    const items = Array.from({ length: Math.max(0, Math.min(pageSize, total - first)) }, (_, i) => ({ id: `r${first + i}`, name: `r${first + i}.mp4`, url: `/f/r${first + i}.mp4`, size: 10 }));
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, page, total })), pageDelayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    trickleUrl: `${url}/trickle/list.txt`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
