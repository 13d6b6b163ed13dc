// Browser tests drive Debian's Chromium (/usr/bin/chromium). On a fresh machine this installs
// it with apt-get when running as root; otherwise it says what to run.
import { execSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium'
if (!existsSync(path)) {
  if (process.getuid?.() === 0) {
    console.log('[kiln] installing Chromium for the browser tests (apt-get install -y chromium)')
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' })
  } else {
    console.error(`[kiln] the browser tests need Chromium at ${path}: run \`sudo apt-get install -y chromium\` (or set KILN_CHROMIUM)`)
    process.exitCode = 1
  }
}
