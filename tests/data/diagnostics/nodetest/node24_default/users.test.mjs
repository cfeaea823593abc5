import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { displayName } = require('./users.js');

describe('displayName', () => {
  it('trims the name', () => {
    assert.equal(displayName({ profile: { name: ' Ada ' } }), 'Ada');
  });

  it('handles a missing profile', () => {
    assert.equal(displayName({}), '');
  });

  it('rejects later', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new RangeError('page size 500 is over the limit 100');
  });
});
