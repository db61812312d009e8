/**
 * The layering dbferry keeps (checked in CI: `npm run check:layers`):
 * - the core (src/) reaches an engine only through the engine registry's lazy loaders (src/engines.ts);
 * - no import cycles anywhere in src/ or dialects/;
 * - the shipped code never imports the test-only folders (test/, fixtures/).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-reaches-dialects-only-through-the-registry',
      comment: 'src/ imports no file under dialects/; engines are loaded lazily by src/engines.ts',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engines\\.ts$' },
      to: { path: '^dialects/' },
    },
    {
      name: 'registry-loads-only-dialect-objects',
      comment: "the engine registry loads an engine's <d>-dialect.ts, which loads its driver lazily",
      severity: 'error',
      from: { path: '^src/engines\\.ts$' },
      to: { path: '^dialects/', pathNot: '^dialects/([^/]+)/\\1-dialect\\.ts$' },
    },
    {
      name: 'no-cycles',
      comment: 'an import cycle makes load order matter and hides which module owns what',
      severity: 'error',
      from: { path: '^(src|dialects)/' },
      to: { circular: true },
    },
    {
      name: 'shipped-code-never-imports-tests',
      severity: 'error',
      from: { path: '^(src|dialects)/' },
      to: { path: '^(test|fixtures|bench)/' },
    },
    {
      name: 'dialects-do-not-import-each-other',
      comment: 'every engine stands alone; what two share lives in src/',
      severity: 'error',
      from: { path: '^dialects/([^/]+)/' },
      to: { path: '^dialects/', pathNot: '^dialects/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
