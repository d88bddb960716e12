// fast-http.ts against raw TCP servers on 127.0.0.1 that write exact bytes: framing (length,
// chunked, to the end), keep-alive reuse and when not to, interim answers, stalls, slow
// consumers, and malformed answers. (Whole downloads over it are in faults.test.ts and the
// lying-server and storm tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { FastHttpPool, ChunkedDecoder } from '../../../electron/core/download/fast-http.ts';
import type { FastResponse } from '../../../electron/core/download/fast-http.ts';
import { ReelpackError } from '../../../electron/core/errors.ts';

interface Exchange {
  /** Index of the connection (in accept order) and of the request on it. */
  connection: number;
  request: number;
  head: string;
  socket: net.Socket;
}

/** A server that hands every request head to `answer`, which writes whatever bytes it likes. */
async function rawServer(answer: (x: Exchange) => void) {
  const exchanges: Exchange[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    let request = 0;
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const x = { connection, request: request++, head: pending.slice(0, end), socket };
        pending = pending.slice(end + 4);
        exchanges.push(x);
        answer(x);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: (path = '/f.mp4') => new URL(`http://127.0.0.1:${port}${path}`),
    exchanges,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const options = { stallTimeoutMs: 5000, connectTimeoutMs: 5000, maxIdlePerOrigin: 4 };

/** Consumes a body, copying each chunk only after `delayMs` (the chunk must stay intact meanwhile). */
async function collect(res: FastResponse, delayMs = 0): Promise<Buffer> {
  const parts: Buffer[] = [];
  await res.body.consume((chunk) => {
    if (delayMs === 0) return void parts.push(Buffer.from(chunk));
    return new Promise<void>((resolve) => setTimeout(() => {
      parts.push(Buffer.from(chunk));
      resolve();
    }, delayMs));
  });
  return Buffer.concat(parts);
}

function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ReelpackError, String(error));
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

test('Content-Length bodies: one kept connection serves one request after another', async () => {
  const files = [randomBytes(300_000), randomBytes(1), randomBytes(70_000)];
  const server = await rawServer(({ socket, request }) => {
    const data = files[request % files.length]!;
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`);
    socket.write(data);
  });
  const pool = new FastHttpPool(options);
  try {
    for (let i = 0; i < 6; i++) {
      const res = await pool.get(server.url(), {});
      assert.equal(res.statusCode, 200);
      assert.ok((await collect(res)).equals(files[i % files.length]!), `request ${i}`);
    }
    assert.equal(server.connections, 1, 'every request on the same connection');
    assert.match(server.exchanges[0]!.head, /^GET \/f\.mp4 HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+/);
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('a slow consumer: the chunk it holds is never overwritten, and the wait is not a stall', async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const server = await rawServer(({ socket }) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`);
    socket.write(data);
  });
  const pool = new FastHttpPool({ ...options, stallTimeoutMs: 200 });
  try {
    const res = await pool.get(server.url(), {});
    // Every chunk is copied 30 ms after it was handed over; over 3 MiB that is far more than the 200 ms stall timeout.
    const got = await collect(res, 30);
    assert.ok(got.equals(data), 'bytes identical');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('chunked bodies are decoded (extensions, trailers, chunks split across reads), and the connection kept', async () => {
  const data = randomBytes(200_000);
  const server = await rawServer(({ socket, request }) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const pieces = [data.subarray(0, 1), data.subarray(1, 70_000), data.subarray(70_000)];
    let wire = Buffer.alloc(0);
    for (const piece of pieces) wire = Buffer.concat([wire, Buffer.from(`${piece.length.toString(16)}${request === 1 ? ';ext=1' : ''}\r\n`), piece, Buffer.from('\r\n')]);
    wire = Buffer.concat([wire, Buffer.from(request === 1 ? '0\r\nx-trailer: yes\r\n\r\n' : '0\r\n\r\n')]);
    // Written in odd slices, so chunk headers straddle reads.
    for (let at = 0; at < wire.length; at += 4093) socket.write(wire.subarray(at, at + 4093));
  });
  const pool = new FastHttpPool(options);
  try {
    for (let i = 0; i < 2; i++) assert.ok((await collect(await pool.get(server.url(), {}))).equals(data), `request ${i}`);
    assert.equal(server.connections, 1);
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('a body without length ends with the connection; an HTTP/1.0 answer is not kept', async () => {
  const data = randomBytes(500_000);
  const server = await rawServer(({ socket }) => {
    socket.write('HTTP/1.0 200 OK\r\n\r\n');
    socket.end(data);
  });
  const pool = new FastHttpPool(options);
  try {
    // The second time the consumer is slow: the end of the connection must wait for it.
    for (let i = 0; i < 2; i++) assert.ok((await collect(await pool.get(server.url(), {}), i * 20)).equals(data));
    assert.equal(server.connections, 2, 'a new connection each time');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('interim 1xx answers are skipped; bytes past the body make the connection unusable', async () => {
  const data = randomBytes(10_000);
  const server = await rawServer(({ socket, request, connection }) => {
    socket.write('HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n');
    // The first answer has junk after its body: whatever follows cannot be trusted as the next answer.
    socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`), data, Buffer.from(connection === 0 && request === 0 ? 'JUNK' : '')]));
  });
  const pool = new FastHttpPool(options);
  try {
    for (let i = 0; i < 2; i++) {
      const res = await pool.get(server.url(), {});
      assert.equal(res.statusCode, 200);
      assert.ok((await collect(res)).equals(data));
    }
    assert.equal(server.connections, 2, 'the connection with junk was dropped');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('a kept connection the server closed unanswered is retried once on a new one', async () => {
  const data = randomBytes(1000);
  const server = await rawServer(({ socket, request }) => {
    if (request === 1) return void socket.destroy(); // the second request on the first connection
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`);
    socket.write(data);
  });
  const pool = new FastHttpPool(options);
  try {
    for (let i = 0; i < 2; i++) assert.ok((await collect(await pool.get(server.url(), {}))).equals(data));
    assert.equal(server.connections, 2);
    assert.equal(server.exchanges.length, 3, 'sent again once');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('stalls, early ends, malformed answers and cancels are clear errors', async () => {
  const server = await rawServer(({ socket, head }) => {
    const path = head.split(' ')[1];
    if (path === '/stall') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
    else if (path === '/short') socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
    else if (path === '/garbage') socket.write('HTTTP/9 what\r\n\r\n');
    else if (path === '/huge-head') socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
    else if (path === '/bad-chunk') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n');
    else if (path === '/long-chunk') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n');
    else if (path === '/two-lengths') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
    else if (path === '/gzip-coding') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
    else if (path === '/slow') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
    else if (path === '/interim') socket.write('HTTP/1.1 103 Early Hints\r\n\r\n'.repeat(20));
    else if (path === '/reset') {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
      setTimeout(() => socket.resetAndDestroy(), 50);
    }
  });
  const pool = new FastHttpPool({ ...options, stallTimeoutMs: 300 });
  try {
    await rejectsWith(collect(await pool.get(server.url('/stall'), {})), 'STALLED', /stalled/);
    await rejectsWith(collect(await pool.get(server.url('/short'), {})), 'NETWORK', /closed early \(97 bytes missing\)/);
    await rejectsWith(collect(await pool.get(server.url('/reset'), {})), 'NETWORK', /ECONNRESET/);
    await rejectsWith(pool.get(server.url('/garbage'), {}), 'BAD_RESPONSE', /status line/);
    await rejectsWith(pool.get(server.url('/interim'), {}), 'BAD_RESPONSE', /interim/);
    await rejectsWith(pool.get(server.url('/huge-head'), {}), 'BAD_RESPONSE', /headers over 64 KiB/);
    await rejectsWith(collect(await pool.get(server.url('/bad-chunk'), {})), 'BAD_RESPONSE', /chunk size/);
    await rejectsWith(collect(await pool.get(server.url('/long-chunk'), {})), 'BAD_RESPONSE', /chunk longer/);
    await rejectsWith(pool.get(server.url('/two-lengths'), {}), 'BAD_RESPONSE', /Content-Length/);
    await rejectsWith(pool.get(server.url('/gzip-coding'), {}), 'BAD_RESPONSE', /Transfer-Encoding/);
    await rejectsWith(pool.get(server.url('/x'), { authorization: 'Bearer a\r\nx-injected: 1' }), 'USAGE', /line breaks/);
    const abort = new AbortController();
    const res = await pool.get(server.url('/slow'), {}, abort.signal);
    setTimeout(() => abort.abort(), 50);
    await rejectsWith(collect(res), 'CANCELLED');
    assert.ok(!server.exchanges.some((x) => /x-injected/i.test(x.head)), 'nothing injected reached the server');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('stop() mid-body settles the consumer and drops the connection', async () => {
  const server = await rawServer(({ socket }) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n');
    socket.write(randomBytes(1_000_000));
  });
  const pool = new FastHttpPool(options);
  try {
    const res = await pool.get(server.url(), {});
    let seen = 0;
    await res.body.consume((chunk) => {
      seen += chunk.length;
      if (seen >= 100_000) res.body.stop();
      return undefined;
    });
    assert.ok(seen >= 100_000 && seen < 10_000_000);
    // The same from a handler that makes the body wait (a rate limit, a busy disk).
    const waited = await pool.get(server.url(), {});
    let seenAfterWait = 0;
    await waited.body.consume((chunk) => {
      seenAfterWait += chunk.length;
      if (seenAfterWait >= 100_000) waited.body.stop();
      return new Promise((resolve) => setTimeout(resolve, 5));
    });
    assert.ok(seenAfterWait >= 100_000 && seenAfterWait < 10_000_000);
    const again = await pool.get(server.url(), {});
    again.body.stop();
    assert.equal(server.connections, 3, 'a stopped connection is not reused');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('ChunkedDecoder: bare LF and over-long size lines are refused', () => {
  assert.throws(() => new ChunkedDecoder('u').next(Buffer.from('5\nhello')), /bare LF/);
  assert.throws(() => new ChunkedDecoder('u').next(Buffer.from(`${'1'.repeat(9000)}`)), /too long/);
  const endless = new ChunkedDecoder('u');
  endless.next(Buffer.from('0\r\n'));
  assert.throws(() => {
    for (let i = 0; i < 10_000; i++) endless.next(Buffer.from('x-trailer: yes\r\n'));
  }, /trailer fields over 64 KiB/);
  const decoder = new ChunkedDecoder('u');
  assert.deepEqual(decoder.next(Buffer.from('3\r\nabc')), { used: 3, body: null });
});

test('an idle kept connection is watched: what the server sends after a body is never the next answer', async () => {
  const server = await rawServer(({ socket, request, connection }) => {
    if (connection === 0 && request === 0) {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
      setTimeout(() => socket.write('first'), 20); // the body's last bytes in a read of their own
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!'), 80); // unasked
    } else {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nGOOD!');
    }
  });
  const pool = new FastHttpPool(options);
  try {
    assert.equal((await collect(await pool.get(server.url(), {}))).toString(), 'first');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await collect(await pool.get(server.url(), {}))).toString(), 'GOOD!');
    assert.equal(server.connections, 2, 'the connection that spoke out of turn was dropped');
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('a body handle from an earlier exchange cannot stop the next one on the same connection', async () => {
  const server = await rawServer(({ socket, request }) => {
    if (request === 0) return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234');
    setTimeout(() => socket.write('56789'), 100);
  });
  const pool = new FastHttpPool(options);
  try {
    const first = await pool.get(server.url(), {});
    await collect(first);
    const second = await pool.get(server.url(), {}); // the same connection
    const body = collect(second);
    setTimeout(() => first.body.stop(), 30); // e.g. an error path dropping a finished body late
    assert.equal((await body).toString(), '0123456789');
    await assert.rejects(first.body.consume(() => undefined), /already read/);
    assert.equal(server.connections, 1);
  } finally {
    await pool.close(0);
    await server.close();
  }
});

test('time before the body is consumed is the caller\'s, not a stall', async () => {
  const server = await rawServer(({ socket }) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
  const pool = new FastHttpPool({ ...options, stallTimeoutMs: 200 });
  try {
    const res = await pool.get(server.url(), {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await collect(res)).toString(), 'abc');
  } finally {
    await pool.close(0);
    await server.close();
  }
});
