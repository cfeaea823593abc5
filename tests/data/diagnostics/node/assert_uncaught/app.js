const assert = require('node:assert');

function loadConfig() {
  return { port: 8080, host: 'localhost' };
}

const config = loadConfig();
console.log('checking config');
assert.deepStrictEqual(config, { port: 8000, host: 'localhost' });
