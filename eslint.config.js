// Flat config shared by every workspace (`npm run lint` runs it per package through turbo).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * The import rules of the layout (docs/architecture.md in the repository's words): core imports only
 * zod; packages never import apps; apps never import each other; Prisma only in packages/db; Express
 * only in the HTTP apps; db decides no webhook policy. Each workspace gets one `no-restricted-imports` entry listing what it may not
 * import (a later entry for the same rule would replace an earlier one, so they are built here).
 */
const APPS = ['api', 'worker', 'simulator', 'dashboard'];
const HTTP_APPS = ['api', 'simulator'];

const restriction = (regex, message) => ({ regex, message });
const anyApp = (except) =>
  restriction(`^@genqueue/(${APPS.filter((a) => a !== except).join('|')})(/|$)|(^|/)apps/`, except ? 'apps never import each other' : 'packages never import apps');
const prisma = restriction('^(@prisma/|prisma$)|generated/prisma', 'Prisma is used only inside packages/db; go through its repositories');
const express = restriction('^express(/|$)', 'Express belongs to the HTTP apps (api, simulator) only');
// the outbox writes what a fan-out policy decides; the composition roots hand @genqueue/webhooks' one in
const webhookPolicy = restriction('^@genqueue/webhooks(/|$)', 'packages/db holds no webhook policy: take it as a WebhookFanOut from the composition root');

function importRules(kind, name) {
  if (kind === 'packages' && name === 'core') {
    return [restriction('^(?!zod(/|$)|\\.)', 'packages/core imports only zod (and its own modules)')];
  }
  const rules = [kind === 'apps' ? anyApp(name) : anyApp(null)];
  if (!(kind === 'packages' && name === 'db')) rules.push(prisma);
  if (kind === 'packages' && name === 'db') rules.push(webhookPolicy);
  if (!(kind === 'apps' && HTTP_APPS.includes(name))) rules.push(express);
  return rules;
}

const WORKSPACES = [
  ...APPS.map((name) => ['apps', name]),
  ...['config', 'core', 'db', 'queue', 'storage', 'testing', 'upstream', 'webhooks'].map((name) => ['packages', name]),
];

module.exports = tseslint.config(
  { ignores: ['**/node_modules/**', '**/generated/**', '**/dist/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['**/main.ts', 'scripts/**', '**/test/**'],
    rules: { 'no-console': 'off' },
  },
  ...WORKSPACES.map(([kind, name]) => ({
    files: [`${kind}/${name}/src/**/*.{ts,tsx}`],
    rules: { 'no-restricted-imports': ['error', { patterns: importRules(kind, name) }] },
  })),
);
