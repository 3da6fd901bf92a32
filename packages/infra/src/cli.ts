/**
 * Tiny CLI shared by postgres.ts / kafka.ts / apicurio.ts / stack.ts:
 *
 *   start    start in the foreground, print KEY=value lines on stdout, run until Ctrl-C / `stop`
 *   stop     stop a `start`ed instance (SIGTERM to the foreground process, which cleans up)
 *   status   print whether a `start`ed instance is running and its env
 *   smoke    start, run a real check, stop
 *   install  only populate the cache (CI warm-up step)
 *
 * State files live in $TMPDIR/taskmesh-infra/<name>.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InfraError, elapsed, log, sleep, waitForever } from './cache.js';
import { infraSettings } from './settings.js';

export interface ServiceCliSpec {
  install?: () => Promise<void>;
  start: () => Promise<{ env: Record<string, string>; stop: () => Promise<void> }>;
  smoke?: () => Promise<void>;
}

interface State {
  pid: number;
  env: Record<string, string>;
  startedAt: string;
}

/** TASKMESH_INFRA_INSTANCE names an instance, so that several stacks can run side by side. */
function stateFile(name: string): string {
  const dir = path.join(os.tmpdir(), 'taskmesh-infra');
  fs.mkdirSync(dir, { recursive: true });
  const instance = infraSettings.instance;
  return path.join(dir, instance ? `${name}-${instance}.json` : `${name}.json`);
}

function readState(name: string): State | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(stateFile(name), 'utf8')) as State;
    process.kill(s.pid, 0);
    return s;
  } catch {
    return undefined;
  }
}

export async function serviceCli(name: string, spec: ServiceCliSpec, argv = process.argv.slice(2)): Promise<void> {
  const cmd = argv[0] ?? 'help';
  const t0 = Date.now();
  try {
    switch (cmd) {
      case 'install': {
        if (!spec.install) throw new InfraError(`${name}: nothing to install`);
        await spec.install();
        log(name, `install done in ${elapsed(t0)}`);
        return;
      }
      case 'smoke': {
        if (!spec.smoke) throw new InfraError(`${name}: no smoke test`);
        await spec.smoke();
        log(name, `smoke test passed in ${elapsed(t0)}`);
        return;
      }
      case 'start':
      case 'up': {
        const existing = readState(name);
        if (existing) throw new InfraError(`${name} already running (pid ${existing.pid}). Next: tsx packages/infra/src/${name}.ts stop, or set TASKMESH_INFRA_INSTANCE=<name> to start another`);
        const h = await spec.start();
        const file = stateFile(name);
        fs.writeFileSync(file, JSON.stringify({ pid: process.pid, env: h.env, startedAt: new Date().toISOString() } satisfies State));
        process.on('exit', () => fs.rmSync(file, { force: true }));
        for (const [k, v] of Object.entries(h.env)) process.stdout.write(`${k}=${v}\n`);
        log(name, `up in ${elapsed(t0)}; Ctrl-C (or \`tsx packages/infra/src/${name}.ts stop\`) to stop`);
        await waitForever();
        return;
      }
      case 'stop': {
        const s = readState(name);
        if (!s) {
          log(name, 'not running');
          return;
        }
        process.kill(s.pid, 'SIGTERM');
        for (let i = 0; i < 120; i++) {
          await sleep(250);
          try {
            process.kill(s.pid, 0);
          } catch {
            log(name, `stopped (pid ${s.pid}) in ${elapsed(t0)}`);
            return;
          }
        }
        throw new InfraError(`${name} (pid ${s.pid}) did not exit within 30s. Next: kill -9 ${s.pid}`);
      }
      case 'status': {
        const s = readState(name);
        if (!s) {
          process.stdout.write(`${name}: not running\n`);
          process.exitCode = 3;
          return;
        }
        process.stdout.write(`${name}: running (pid ${s.pid}, since ${s.startedAt})\n`);
        for (const [k, v] of Object.entries(s.env)) process.stdout.write(`${k}=${v}\n`);
        return;
      }
      default:
        process.stderr.write(`usage: tsx packages/infra/src/${name}.ts start|stop|status|smoke${spec.install ? '|install' : ''}\n`);
        process.exitCode = cmd === 'help' ? 0 : 2;
    }
  } catch (e) {
    if (e instanceof InfraError) {
      log(name, `ERROR: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
