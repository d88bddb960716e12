// HttpClient's own duties beyond a single request (redirects and faults are in faults.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { HttpClient, readText } from '../../../electron/core/download/http-client.ts';
import type { ReelpackError } from '../../../electron/core/errors.ts';

test('close() does not wait for a body nobody reads (e.g. left behind by an error)', { timeout: 20_000 }, async () => {
  // The server sends headers and a first chunk, then nothing: the body never ends.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(64 * 1024 * 1024) });
    res.write(Buffer.alloc(1024));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v.mp4`;
  // A stall timeout far beyond the test's own timeout: only close() giving up can pass.
  const client = new HttpClient({ stallTimeoutMs: 120_000 });
  try {
    const res = await client.send(url);
    assert.equal(res.statusCode, 200);
    res.body.on('error', () => {}); // destroying the dispatcher errors the abandoned body
    await client.close();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a listing that trickles (a byte at a time, never stalling) fails at its deadline instead of hanging', { timeout: 20_000 }, async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(timer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = new HttpClient({ stallTimeoutMs: 5_000 }); // each byte comes well within the stall timeout
  try {
    const res = await client.send(`http://127.0.0.1:${(server.address() as { port: number }).port}/api/results`);
    // Without the deadline this waits forever (the bytes keep the stall timeout away): the test's timeout fails it.
    await assert.rejects(readText(res, 1024 * 1024, undefined, 600), (error: ReelpackError) => {
      assert.equal(error.code, 'BAD_LISTING');
      assert.match(error.message, /took over 1 s to arrive .* too slowly/);
      return true;
    });
  } finally {
    await client.close();
    server.closeAllConnections();
    server.close();
  }
});
