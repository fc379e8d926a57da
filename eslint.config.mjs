// n8n's own community-node rules (eslint-plugin-n8n-nodes-base), applied the way n8n's node
// starter applies them: `community` to each package.json, `nodes` to the node folders,
// `credentials` to *.credentials.ts. The plugin ships eslintrc-style configs; flat config only
// needs their rule maps. Every rule switched off below is listed, with the reason, in the
// "Lint" section of the package READMEs (examples/custom-node/README.md has the full list).
import { createRequire } from 'node:module';
import { join } from 'node:path';

// `npm run lint` (scripts/lint.mjs) installs the lint tools outside the repository and says
// where; without it they resolve from here as usual.
const load = createRequire(process.env.CAMPAIGNOS_LINT_MODULES ? join(process.env.CAMPAIGNOS_LINT_MODULES, 'resolve.js') : import.meta.url);
const tsParser = load('@typescript-eslint/parser');
const n8nNodesBase = load('eslint-plugin-n8n-nodes-base');

const packages = ['nodes/*', 'examples/custom-node'];
const plugins = { 'n8n-nodes-base': n8nNodesBase };
const languageOptions = { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' };

export default [
  { ignores: ['**/dist/**', '**/node_modules/**'] },
  {
    files: packages.map((p) => `${p}/package.json`),
    plugins,
    languageOptions,
    rules: { ...n8nNodesBase.configs.community.rules },
  },
  {
    files: packages.map((p) => `${p}/src/nodes/**/*.ts`),
    ignores: ['**/*.test.ts'],
    plugins,
    languageOptions,
    rules: {
      ...n8nNodesBase.configs.nodes.rules,
      // Nodes are written with the SDK's defineNode: `execute` throws the SDK's coded NodeError
      // (the runtime reads its code and retryability), and defineNode turns it into n8n's
      // NodeOperationError, with the item index, at the n8n boundary.
      'n8n-nodes-base/node-execute-block-wrong-error-thrown': 'off',
      // The rule predates NodeConnectionTypes and wants the literal ['main']; n8n's own nodes
      // now write [NodeConnectionTypes.Main], which is the same value, typed.
      'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
      'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
    },
  },
  {
    // A description kept in its own `<node>.description.ts` (next to `<Node>.node.ts`) is not
    // the node file; this rule would ask for the description file to be named like the node.
    files: packages.map((p) => `${p}/src/nodes/**/*.description.ts`),
    plugins,
    languageOptions,
    rules: { 'n8n-nodes-base/node-filename-against-convention': 'off' },
  },
  {
    // `campaignOsSmtp` is an SMTP account, not an API (n8n's own is plain `smtp`), and the type
    // name is stored in every deployed workflow: renaming it to `...Api` would break them.
    files: ['nodes/email/src/nodes/**/*.ts'],
    ignores: ['**/*.test.ts'],
    plugins,
    languageOptions,
    rules: { 'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off' },
  },
  {
    // `allowReentryProperty(byDefault, ...)` builds a boolean parameter whose default is a
    // boolean argument; the rule only recognises a literal `true`/`false`.
    files: ['nodes/triggers/src/nodes/enrolment.ts'],
    plugins,
    languageOptions,
    rules: { 'n8n-nodes-base/node-param-default-wrong-for-boolean': 'off' },
  },
  {
    files: packages.map((p) => `${p}/src/credentials/**/*.credentials.ts`),
    plugins,
    languageOptions,
    rules: {
      ...n8nNodesBase.configs.credentials.rules,
      // Its own docs: "only applicable to nodes in the main repository" (a docs slug). A
      // community credential links a full URL instead, which cred-class-field-documentation-url-not-http-url checks.
      'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
    },
  },
];
