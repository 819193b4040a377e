import { sandboxOptionsFromEnv, SANDBOX_ENV_HELP } from './config';
import { CONTROL_ENDPOINTS } from './control';
import { DEFAULT_SANDBOX_MD5_KEY, DEFAULT_SANDBOX_PARTNER } from './defaults';
import { SandboxError } from './errors';
import { startSandbox } from './server';

/**
 * `npm run sandbox`: the Alipay MAPI sandbox as a process, configured by environment variables
 * (`--help` lists them) and `--state-file PATH`. Prints its URL, logs one line per call, stops
 * on SIGINT / SIGTERM (saving the state file, if any).
 */

function help(): string {
  const width = Math.max(...SANDBOX_ENV_HELP.map(([name]) => name.length));
  return [
    'Alipay MAPI sandbox: a gateway.do peer for development, demos and tests (in memory,',
    'or kept in a state file across restarts).',
    '',
    'Usage: npm run sandbox [-- --help] [-- --state-file PATH]',
    '',
    'Options:',
    '  --state-file PATH   keep state in PATH (JSON, created if missing; overrides SANDBOX_STATE_FILE)',
    '',
    'Environment:',
    ...SANDBOX_ENV_HELP.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    '',
    `Default partner (MADE-UP, MAPI.md): ${DEFAULT_SANDBOX_PARTNER}, MD5 key ${DEFAULT_SANDBOX_MD5_KEY}`,
    '',
    'Endpoints:',
    '  GET|POST /gateway.do                 the six MAPI services and notify_verify',
    ...CONTROL_ENDPOINTS.map((e) => `  ${e}`),
    '',
    'Example (a customer pays 8.80 on a code):',
    '  curl -s -X POST localhost:8710/sandbox/pay -H "content-type: application/json" \\',
    '    -d \'{"qrcode":"https://qr.alipay.com/bax...","amount":"8.80"}\'',
  ].join('\n');
}

/** `--state-file PATH` or `--state-file=PATH`; undefined when absent. */
function stateFileFlag(args: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--state-file') {
      value = args[i + 1];
      if (value === undefined || value === '' || value.startsWith('--'))
        throw new SandboxError('SANDBOX_BAD_CONFIG', '--state-file needs a path');
      i += 1;
    } else if (arg.startsWith('--state-file=')) {
      value = arg.slice('--state-file='.length);
      if (value === '') throw new SandboxError('SANDBOX_BAD_CONFIG', '--state-file needs a path');
    } else {
      throw new SandboxError('SANDBOX_BAD_CONFIG', `unknown argument ${arg} (try --help)`);
    }
  }
  return value;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${help()}\n`);
    return;
  }
  const stateFile = stateFileFlag(process.argv.slice(2));
  const { quiet, ...options } = sandboxOptionsFromEnv(process.env);
  if (stateFile !== undefined) options.stateFile = stateFile;
  const sandbox = await startSandbox({
    ...options,
    log: quiet
      ? undefined
      : (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(
    `Alipay sandbox listening on ${sandbox.url} (gateway ${sandbox.gatewayUrl}, control ${sandbox.url}/sandbox)${sandbox.stateFile ? `, state in ${sandbox.stateFile}` : ''}${sandbox.sftp ? `; reconciliation files on sftp://${sandbox.sftp.username}@${sandbox.sftp.host}:${sandbox.sftp.port}${sandbox.sftp.directory}` : ''}\n`,
  );
  const stop = (signal: string): void => {
    process.stdout.write(`${signal}: stopping the sandbox\n`);
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  if (e instanceof SandboxError) process.stderr.write(`sandbox: ${e.message}\n`);
  else if ((e as { code?: unknown }).code === 'EADDRINUSE') {
    process.stderr.write(
      `sandbox: ${(e as Error).message}; choose another SANDBOX_PORT (0 = any free port)\n`,
    );
  } else
    process.stderr.write(`sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
