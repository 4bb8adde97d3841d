// tsc keeps the source layout (dist/apps/<app>/src/main.js); the documented entry points are
// dist/apps/<app>/main.js, as the Nest CLI's monorepo build lays them out. Write those shims.
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'apps');
for (const app of fs.readdirSync(path.join(__dirname, '..', 'apps'))) {
  const target = path.join(dist, app, 'src', 'main.js');
  if (!fs.existsSync(target)) continue;
  const shim = path.join(dist, app, 'main.js');
  fs.writeFileSync(shim, `#!/usr/bin/env node\nrequire('./src/main');\n`, { mode: 0o755 });
}
