/**
 * Debian's Chromium for the web app's browser tests (driven by playwright-core; never a browser
 * downloaded by `playwright install`). Installed with apt-get when missing; the same lock as the
 * other apt installs, so two runs never race dpkg.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir, elapsed, InfraError, log, run, withLock } from './cache.js';
import { infraSettings } from './settings.js';

const C = 'chromium';
// Debian's launcher script; `chromium-browser` on some derivatives.
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function findChromium(): string | undefined {
  const fromEnv = infraSettings.chromium;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((file) => fs.existsSync(file));
}

/** Path of a Chromium executable, installed with apt-get when there is none. */
export async function ensureChromium(): Promise<string> {
  const found = findChromium();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new InfraError('Chromium not found and not running as root.\n  Next: sudo apt-get update && sudo apt-get install -y chromium  (or set TASKMESH_CHROMIUM to a Chromium executable)');
  }
  const t0 = Date.now();
  await withLock('apt', async () => {
    if (findChromium()) return;
    const logFile = path.join(cacheDir('logs'), 'apt-chromium.log');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    log(C, `installing Chromium with apt-get (log: ${logFile})`);
    await run('apt-get', ['update'], { env, logFile, component: C, what: 'apt-get update' });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'], { env, logFile, component: C, what: 'apt-get install chromium' }).catch((e: unknown) => {
      throw new InfraError(`${(e as Error).message}\n  Next: run "apt-get install -y chromium" by hand to see the problem.`);
    });
  });
  const installed = findChromium();
  if (!installed) throw new InfraError(`apt-get install chromium finished but none of ${CANDIDATES.join(', ')} exists`);
  log(C, `installed Chromium in ${elapsed(t0)}`);
  return installed;
}
