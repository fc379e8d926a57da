#!/usr/bin/env node
// `npm start` on a fresh clone: install and build when needed, then run `campaignos dev`.
// Uses only Node built-ins, since nothing is installed yet the first time.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => {
  console.log(`> npm ${args.join(' ')}`);
  const result = spawnSync(npm, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('First start: installing dependencies (a few minutes) ...');
  run(['ci', '--no-audit', '--no-fund']);
}
if (!existsSync(join(root, 'runtime', 'dist', 'cli.js'))) run(['run', 'build']);

const child = spawn(process.execPath, [join(root, 'runtime', 'dist', 'cli.js'), 'dev', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
