// A free TCP port on 127.0.0.1, chosen by the kernel (listen on 0, read it back, close).
import { type AddressInfo, createServer } from 'node:net';

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
