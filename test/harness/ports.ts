import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The OS picks it (port 0), so two callers racing get different
 * ports; a server started later could still lose the race to another process, so callers that bind retry on failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      if (address === null || typeof address === 'string') {
        srv.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      const { port } = address;
      srv.close(() => resolve(port));
    });
  });
}
