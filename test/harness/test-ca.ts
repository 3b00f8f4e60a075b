import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * A throwaway certificate authority in `dir` (openssl CLI, P-256, valid one day): `ca.key` / `ca.crt`, and `leaf(name,
 * san)` writes `<name>.key` / `<name>.crt` it signed for a subjectAltName (`IP:127.0.0.1`, `URI:spiffe://…`).
 */
export function testCa(dir: string): { leaf(name: string, san: string): void } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', ...NEW_EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  return {
    leaf(name, san) {
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
      openssl('req', ...NEW_EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      const sign = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`];
      openssl('x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.crt`);
    },
  };
}
