#!/usr/bin/env node
// The public API, as a reviewed report per entry point (api/<entry>.api.md), built from dist/*.d.ts by
// API Extractor. `node scripts/api-report.mjs` fails when the surface differs from the committed report (CI);
// `node scripts/api-report.mjs --update` rewrites the reports after a deliberate change, for review.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const update = process.argv.includes('--update')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
// one report per subpath export: `.` is index, `./postgres` is postgres, …
const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'index' : k.slice(2)))
const base = ExtractorConfig.loadFile(join(root, 'api', 'api-extractor.json'))

let changed = []
for (const entry of entries) {
  const config = ExtractorConfig.prepare({
    configObject: { ...base, mainEntryPointFilePath: join(root, 'dist', `${entry}.d.ts`), apiReport: { ...base.apiReport, reportFileName: `${entry}.api.md` } },
    configObjectFullPath: join(root, 'api', 'api-extractor.json'),
    packageJsonFullPath: join(root, 'package.json'),
  })
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false, // only warnings and errors reach the console (not the analysis preamble)
    messageCallback: (m) => { m.handled = m.logLevel !== 'warning' && m.logLevel !== 'error' } })
  if (result.apiReportChanged) changed.push(entry)
  if (!result.succeeded && !result.apiReportChanged) {
    console.error(`api-report: ${entry}: ${result.errorCount} error(s)`)
    process.exitCode = 1
  }
}
if (changed.length > 0) {
  if (update) console.log(`api-report: updated api/${changed.map((e) => `${e}.api.md`).join(', ')}: review the change`)
  else {
    console.error(`api-report: the public API of ${changed.join(', ')} differs from api/*.api.md. If the change is deliberate, run \`node scripts/api-report.mjs --update\` and commit the reports for review.`)
    process.exitCode = 1
  }
}
