import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config';
import { identifyKey, keysFromEnv, parseKeysFile } from '../../../src/server/api-keys';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

test('a keys file: digests, access, scopes; the env keys stay all, read-write', () => {
  const { keys, problems } = parseKeysFile(
    JSON.stringify({
      keys: [
        { id: 'till', sha256: sha('till-key-0000000001'), access: 'read-write', stores: ['S01'] },
        {
          id: 'reports',
          sha256: sha('reports-key-00000002'),
          access: 'read-only',
          secondaryMerchants: ['M-1'],
          ratePerMinute: 10,
        },
        { id: 'ops', sha256: sha('ops-key-000000000003'), access: 'read-write', scope: 'all' },
      ],
    }),
    'keys.json',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    keys.map((k) => [k.id, k.access, k.scope, k.ratePerMinute]),
    [
      [
        'till',
        'read-write',
        { kind: 'limited', secondaryMerchants: [], stores: ['S01'] },
        undefined,
      ],
      ['reports', 'read-only', { kind: 'limited', secondaryMerchants: ['M-1'], stores: [] }, 10],
      ['ops', 'read-write', { kind: 'all' }, undefined],
    ],
  );
  const all = [...keysFromEnv(['env-key-000000000000']), ...keys];
  assert.equal(identifyKey(all, 'reports-key-00000002')?.id, 'reports');
  assert.equal(identifyKey(all, 'env-key-000000000000')?.scope.kind, 'all');
  assert.equal(identifyKey(all, 'env-key-000000000000')?.access, 'read-write');
  assert.equal(identifyKey(all, 'reports-key-0000000'), undefined);
  assert.equal(identifyKey(all, sha('reports-key-00000002')), undefined, 'the digest is no key');
});

test('every problem of a keys file is reported at once, naming the entry', () => {
  const { problems } = parseKeysFile(
    JSON.stringify({
      keys: [
        { id: 'a', sha256: 'plain-text-key', access: 'read-write', scope: 'all' },
        { id: 'b', sha256: sha('x'), access: 'admin', stores: 'S01' },
        { id: 'c', sha256: sha('y'), access: 'read-only' },
        { id: 'c', sha256: sha('y'), access: 'read-only', scope: 'all', extra: 1 },
      ],
    }),
    'keys.json',
  );
  assert.deepEqual(problems, [
    "keys.json keys[0] (a): sha256 must be the 64 hex digits of the key's SHA-256 (never the key itself)",
    'keys.json keys[1] (b): access must be read-only or read-write',
    'keys.json keys[1] (b): stores must be a list of IDs',
    'keys.json keys[2] (c): give "scope": "all", or secondaryMerchants and/or stores',
    'keys.json keys[3] (c): unknown field extra',
    'keys.json keys[3] (c): id is used twice',
    'keys.json keys[3] (c): the same key digest is listed twice',
  ]);
  assert.match(parseKeysFile('{', 'k').problems[0]!, /^k: not JSON/);
  assert.deepEqual(parseKeysFile('{"keys": []}', 'k').problems, [
    'k: expected {"keys": [ ...at least one key ]}',
  ]);
});

test('config: MERCHANT_API_KEYS_FILE is read and checked at start-up', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keys-config-'));
  try {
    const file = path.join(dir, 'keys.json');
    writeFileSync(
      file,
      JSON.stringify({ keys: [{ id: 'x', sha256: sha('k'), access: 'read-write' }] }),
    );
    assert.throws(
      () => loadConfig({ MERCHANT_API_KEYS_FILE: file }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('MERCHANT_API_KEYS_FILE keys[0] (x): give')),
    );
    assert.throws(
      () => loadConfig({ MERCHANT_API_KEYS_FILE: path.join(dir, 'missing.json') }),
      /MERCHANT_API_KEYS_FILE=.*missing\.json/,
    );
    writeFileSync(
      file,
      JSON.stringify({
        keys: [{ id: 'x', sha256: sha('k'), access: 'read-only', stores: ['S1'] }],
      }),
    );
    const config = loadConfig({ MERCHANT_API_KEYS_FILE: file });
    assert.deepEqual(
      config.http.apiKeys.map((k) => [k.id, k.access]),
      [
        ['env-1', 'read-write'],
        ['x', 'read-only'],
      ],
    );
    assert.equal(config.http.adminHost, '127.0.0.1');
    assert.equal(config.http.adminPort, 8081);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
