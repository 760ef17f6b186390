// ESLint flat config: typescript-eslint's type-aware rules for src/, a lighter set for tests.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** @actions/core's functions that print (src/base/log.ts is their only caller). */
const PRINTING = '/^(info|warning|error|debug|notice|setFailed|group|startGroup|endGroup)$/'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }]
    }
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off'
    }
  },
  {
    // One output path (src/base/log.ts): every line the action prints is made inert there, so text from
    // the cluster, the file system or the inputs can never issue a workflow command.
    files: ['src/**'],
    ignores: ['src/base/log.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `MemberExpression[object.name='core'][property.name=${PRINTING}]`,
          message: 'Print through src/base/log.ts, which makes outside text inert.'
        },
        {
          selector: `ImportDeclaration[source.value='@actions/core'] ImportSpecifier[imported.name=${PRINTING}]`,
          message: 'Print through src/base/log.ts, which makes outside text inert.'
        },
        {
          selector: "ImportDeclaration[source.value='@actions/core'] ImportNamespaceSpecifier[local.name!='core']",
          message: "Import @actions/core as 'core', so the rule above sees every use."
        },
        { selector: "MemberExpression[object.name='console']", message: 'Print through src/base/log.ts.' },
        {
          selector: "MemberExpression[object.name='process'][property.name=/^(stdout|stderr)$/]",
          message: 'Print through src/base/log.ts.'
        }
      ]
    }
  },
  {
    // @actions/exec copies a child's output to stdout unless told not to: only container-logs.ts runs
    // one, silently, and prints what it captured through src/base/log.ts.
    files: ['src/**'],
    ignores: ['src/step/container-logs.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@actions/exec',
              message: 'Only src/step/container-logs.ts runs commands (silently, printing through src/base/log.ts).'
            }
          ]
        }
      ]
    }
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked }
)
