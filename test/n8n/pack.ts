// Packs the SDK and every node package the way a publisher would (`npm pack` of the built
// folders), and checks that each tarball holds what an installed package needs and nothing else.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface PackedPackage {
  name: string;
  version: string;
  folder: string;
  tarball: string;
  files: string[];
  /** The `"n8n"` block: community node and credential files. */
  n8n?: { nodes?: string[]; credentials?: string[] };
}

interface Manifest {
  name: string;
  version: string;
  n8n?: PackedPackage['n8n'];
}

/** The SDK and every workspace folder that is an n8n community node package (has an `"n8n"` block). */
export function publishableFolders(): string[] {
  const candidates = ['sdk', ...['nodes', 'examples'].flatMap((parent) => readdirSync(join(ROOT, parent)).map((name) => `${parent}/${name}`))];
  return candidates.filter((folder) => {
    const path = join(ROOT, folder, 'package.json');
    if (!existsSync(path)) return false;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    return folder === 'sdk' || manifest.n8n !== undefined;
  });
}

/** `npm pack` into `destination`; the packages must be built (`npm run build`) first. */
export function pack(folders: string[], destination: string): PackedPackage[] {
  for (const folder of folders) {
    if (!existsSync(join(ROOT, folder, 'dist'))) throw new Error(`${folder} is not built: run "npm run build" first`);
  }
  // --ignore-scripts: packing must not rebuild (the build is the caller's job) or touch the tree.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination, ...folders.map((f) => `./${f}`)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reports = JSON.parse(out) as Array<{ name: string; version: string; filename: string; files: Array<{ path: string }> }>;
  return reports.map((report, i) => {
    const folder = folders[i]!;
    const manifest = JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as Manifest;
    return {
      name: report.name,
      version: report.version,
      folder,
      tarball: join(destination, report.filename),
      files: report.files.map((f) => f.path).sort(),
      n8n: manifest.n8n,
    };
  });
}

const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE(\.md|\.txt)?$/, /^dist\/.+\.(js|d\.ts|svg|png)$/];
const FORBIDDEN_IN_DIST = [/\.test\.(js|d\.ts)$/, /(^|\/)(src|test|tests|__tests__)\//];

/**
 * What is wrong with a tarball's content, one sentence each (empty when it is clean):
 * only package.json, README, LICENSE and built js/d.ts/icons; no sources, tests or source maps
 * (they point at sources that are not shipped); every file the `"n8n"` block names is there;
 * a node package ships its README.
 */
export function tarballProblems(pkg: PackedPackage): string[] {
  const problems: string[] = [];
  for (const file of pkg.files) {
    if (!ALLOWED.some((re) => re.test(file))) problems.push(`${pkg.name}: ${file} should not be published`);
    else if (FORBIDDEN_IN_DIST.some((re) => re.test(file))) problems.push(`${pkg.name}: ${file} is a test or source file`);
  }
  const listed = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])];
  for (const file of listed) {
    if (!pkg.files.includes(file)) problems.push(`${pkg.name}: the "n8n" block names ${file}, which is not in the tarball`);
  }
  if (pkg.n8n && !pkg.files.includes('README.md')) problems.push(`${pkg.name}: no README.md (npm and n8n show it to users)`);
  if (!pkg.files.includes('dist/index.js') && !listed.length) problems.push(`${pkg.name}: ships no code`);
  return problems;
}
