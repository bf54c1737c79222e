import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses before Express sees them (a request line or headers over
 * its 16 KiB limit, broken syntax) get the contract's error shape instead of Node's bodiless
 * 400/431, so every 4xx of the API is `{"error": {...}}`.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // a timed-out or reset connection has nobody to answer
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const [status, reason, message] = tooLarge
      ? [431, 'Request Header Fields Too Large', 'The request line or headers are too large']
      : [400, 'Bad Request', 'The request is not valid HTTP'];
    const body = JSON.stringify({ error: { code: 'invalid_request', message, details: [] } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
