// Minimal TypeScript require hook (swc) with the @loyalty/* path aliases, so the
// bench runs from sources: node libs/read-models/bench/register.js <file.ts>
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');
const root = path.resolve(__dirname, '../../..');
const origResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const m = /^@loyalty\/(domain|kafka|read-models|config)$/.exec(request);
  if (m) request = path.join(root, 'libs', m[1], 'src');
  return origResolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(path.resolve(process.argv[2]));
