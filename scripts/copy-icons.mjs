// n8n loads node icons from next to the compiled node file; tsc does not copy them.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, visit) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, visit);
    else visit(path);
  }
}

if (existsSync('src')) {
  walk('src', (path) => {
    if (path.endsWith('.svg') || path.endsWith('.png')) cpSync(path, path.replace(/^src/, 'dist'));
  });
}
