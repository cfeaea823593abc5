const fs = require('fs');

function readConfig(path) {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot load config from ${path}`, { cause: err });
  }
}

readConfig('/nonexistent/config.json');
