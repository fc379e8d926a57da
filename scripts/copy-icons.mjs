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

// Run in a package folder, or from the root with the package folders as arguments.
const packages = process.argv.length > 2 ? process.argv.slice(2) : ['.'];
for (const pkg of packages) {
  const src = join(pkg, 'src');
  if (!existsSync(src)) continue;
  walk(src, (path) => {
    if (path.endsWith('.svg') || path.endsWith('.png')) cpSync(path, join(pkg, 'dist', path.slice(src.length)));
  });
}
