// `npm run lint`: n8n's community-node lint rules over every node package.
//
// eslint-plugin-n8n-nodes-base refuses to be installed by npm (its preinstall runs
// `npx only-allow pnpm`, which fails an `npm install`/`npm ci`), so the lint tools are not
// project dependencies: they are installed once, without install scripts, into a cache folder
// outside the repository (like the n8n hosts of `npm run test:n8n`), and run from there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const TOOLS = {
  eslint: '9.39.5',
  '@typescript-eslint/parser': '8.74.0',
  'eslint-plugin-n8n-nodes-base': '2.0.0',
};
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'campaignos', 'lint');
const dir = join(cache, Object.entries(TOOLS).map(([name, version]) => `${name.replace(/[@/]/g, '')}-${version}`).join('_'));
const ready = join(dir, '.campaignos-ready');

if (!existsSync(ready)) {
  console.log(`lint: installing ${Object.entries(TOOLS).map(([n, v]) => `${n}@${v}`).join(', ')} into ${dir}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'campaignos-lint-tools', private: true, dependencies: TOOLS }, null, 2));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  if (install.status !== 0) {
    console.error(`lint: installing the lint tools failed (npm exited ${install.status}); see the output above`);
    process.exit(1);
  }
  writeFileSync(ready, new Date().toISOString());
}

const modules = join(dir, 'node_modules');
const args = process.argv.slice(2);
const eslint = spawnSync(process.execPath, [join(modules, 'eslint', 'bin', 'eslint.js'), ...(args.length ? args : ['nodes', 'examples/custom-node'])], {
  stdio: 'inherit',
  env: { ...process.env, CAMPAIGNOS_LINT_MODULES: modules },
});
process.exit(eslint.status ?? 1);
