// Builds the web console (console/) into dist/console/: one JavaScript bundle (Preact and the AWS
// SDK for JavaScript v3 for the browser, minified), its stylesheet and its page. The server reads
// these three files at start-up (src/service/console.ts); nothing is fetched at run time.
import { copyFileSync, mkdirSync } from 'node:fs'
import { build } from 'esbuild'

const out = 'dist/console'
mkdirSync(out, { recursive: true })
const result = await build({
  entryPoints: ['console/src/main.tsx'],
  outfile: `${out}/app.js`,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
})
copyFileSync('console/index.html', `${out}/index.html`)
copyFileSync('console/app.css', `${out}/app.css`)
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
console.log(`console built into ${out}/ (${Math.round(bytes / 1024)} KiB)`)
