import { parseBody } from './parse.mjs';

console.log('server ready');
parseBody('{"a": 1');
