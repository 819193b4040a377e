import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEED } from './flows';
import { startReliabilityStack, type ReliabilityStack } from './stack';
import { storm } from './storm';
import { FAILURE_COLUMNS, tally } from './tally';

// The reliability and security suite (README "Reliability suite"): the engine as real
// processes, Alipay's notifications and answers disturbed, processes killed, hostile input.
// One scenario: node --import tsx --test --test-name-pattern=Storm test/reliability/reliability.test.ts
let stack: ReliabilityStack;

before(async () => {
  console.log(`reliability suite: seed ${SEED} (RELIABILITY_SEED=${SEED} replays it)`);
  stack = await startReliabilityStack();
});

after(async () => {
  await stack?.close();
  console.log(`\nreliability summary (seed ${SEED})\n${tally.render()}`);
  const total = tally.total();
  for (const column of FAILURE_COLUMNS) assert.equal(total[column], 0, `${column} must be 0`);
});

describe('Storm', () => {
  it('>= 200 payments at 4 stores through duplicated, reordered, delayed and dropped notifications', async () => {
    await storm(stack, tally.row('Storm'));
  });
});
