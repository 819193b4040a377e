import type { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxError } from '../errors';
import { parseJsonBody, readBody, sendJson } from '../http-util';
import type { ReconFault, ReconFiles } from './publisher';
import type { SftpServer } from './sftp-server';

/** Control endpoints of the reconciliation files (listed by `GET /sandbox` too). */
export const RECON_ENDPOINTS = [
  'GET    /sandbox/recon                    files produced, faults, the SFTP server',
  "POST   /sandbox/recon/{date}/produce     produce that GMT+8 day's files now, from the current state",
  'POST   /sandbox/recon/{date}/faults      {"kind":"late","ms"} | {"kind":"missing"} | {"kind":"truncated"} | {"kind":"tamper","outTradeNo"?,"amount"?} ("file"?: transaction|settlement)',
  "DELETE /sandbox/recon/{date}/faults      remove that day's faults",
] as const;

/** Serves `/sandbox/recon…`; answers false when the path is not one of them. */
export async function handleReconControl(
  recon: ReconFiles,
  sftp: (SftpServer & { username: string }) | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const m = /^\/sandbox\/recon(?:\/(\d{4}-\d{2}-\d{2})\/(produce|faults))?\/?$/.exec(path);
  if (!m) return false;
  const [, date, action] = m;
  try {
    if (!action && req.method === 'GET') {
      sendJson(res, 200, {
        ...recon.view(),
        sftp: sftp
          ? {
              host: sftp.host,
              port: sftp.port,
              username: sftp.username,
              directory: sftp.directory,
              hostPublicKey: sftp.hostPublicKey,
            }
          : null,
      });
    } else if (action === 'produce' && req.method === 'POST') {
      sendJson(res, 200, recon.produce(date as string));
    } else if (action === 'faults' && req.method === 'POST') {
      const input = parseJsonBody(await readBody(req));
      const faults = (Array.isArray(input) ? input : [input]) as ReconFault[];
      let list: ReconFault[] = [];
      for (const f of faults) list = recon.addFault(date as string, f);
      sendJson(res, 201, { date, faults: list });
    } else if (action === 'faults' && req.method === 'DELETE') {
      recon.clearFaults(date as string);
      sendJson(res, 200, { date, faults: [] });
    } else {
      sendJson(res, 405, { error: 'method not allowed', endpoints: RECON_ENDPOINTS });
    }
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    sendJson(res, e.httpStatus, { error: e.code, message: e.message });
  }
  return true;
}
