// Lets a plain node process (a child replica in a test, a benchmark) require the TypeScript
// sources, compiled on load by typescript's transpiler as jest does; no build needed.
const fs = require('node:fs');
const ts = require('typescript');

const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
require.extensions['.ts'] = (module, file) => {
  module._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: options }).outputText, file);
};
