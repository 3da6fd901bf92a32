/**
 * Throw-away PostgreSQL for tests: fresh cluster in a temp dir, trust auth on 127.0.0.1,
 * free port, durability off. Uses the distro binaries (/usr/lib/postgresql/<major>/bin),
 * installing them with apt-get when missing.
 *
 *   tsx packages/infra/src/postgres.ts start|stop|status|smoke|install
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InfraError, cacheDir, elapsed, freePort, isMain, log, rmrf, run, serviceDir, serviceGuard, spawnServer, waitFor, withLock } from './cache.js';
import type { ServerProcess } from './cache.js';
import { serviceCli } from './cli.js';
import { infraSettings } from './settings.js';

const C = 'postgres';

export interface PostgresInstall {
  binDir: string;
  /** major version, e.g. "15" */
  major: string;
}

export interface PostgresHandle {
  /** postgres://postgres@127.0.0.1:PORT/taskmesh */
  url: string;
  port: number;
  host: string;
  user: string;
  database: string;
  dataDir: string;
  logFile: string;
  /** SIGINT (or `signal`: SIGKILL is a crash) the server, wait for exit, start it again on the same port and data dir */
  restart(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** database created at start (default "taskmesh") */
  database?: string;
  /** extra `-c name=value` server settings */
  settings?: Record<string, string | number>;
}

function findBinDir(): PostgresInstall | undefined {
  const fromEnv = infraSettings.pgBin;
  if (fromEnv) {
    if (!fs.existsSync(path.join(fromEnv, 'initdb'))) throw new InfraError(`TASKMESH_PG_BIN=${fromEnv} has no initdb`);
    const v = spawnSync(path.join(fromEnv, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout;
    return { binDir: fromEnv, major: /(\d+)/.exec(v)?.[1] ?? '0' };
  }
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const majors = fs
    .readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => ['initdb', 'postgres', 'pg_isready', 'psql'].every((b) => fs.existsSync(path.join(root, d, 'bin', b))))
    .sort((a, b) => Number(b) - Number(a));
  const major = majors[0];
  return major ? { binDir: path.join(root, major, 'bin'), major } : undefined;
}

function hasTrgm(inst: PostgresInstall): boolean {
  const r = spawnSync(path.join(inst.binDir, 'pg_config'), ['--sharedir'], { encoding: 'utf8' });
  const share = r.status === 0 ? r.stdout.trim() : `/usr/share/postgresql/${inst.major}`;
  return fs.existsSync(path.join(share, 'extension', 'pg_trgm.control'));
}

let installed: PostgresInstall | undefined;

/** Locate the server binaries; apt-get install postgresql + contrib when missing. */
export async function ensurePostgresInstalled(): Promise<PostgresInstall> {
  if (installed) return installed;
  let inst = findBinDir();
  if (!inst || !hasTrgm(inst)) {
    const t0 = Date.now();
    if (process.getuid?.() !== 0) {
      throw new InfraError(
        `PostgreSQL server binaries${inst ? ' with contrib (pg_trgm)' : ''} not found and not running as root.\n` +
          `  Next: sudo apt-get update && sudo apt-get install -y postgresql postgresql-contrib  (or set TASKMESH_PG_BIN to a bin dir with initdb/postgres)`,
      );
    }
    await withLock('apt', async () => {
      const logFile = path.join(cacheDir('logs'), 'apt-postgresql.log');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      log(C, `installing PostgreSQL with apt-get (log: ${logFile})`);
      await run('apt-get', ['update'], { env, logFile, component: C, what: 'apt-get update' });
      await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql', 'postgresql-contrib'], {
        env,
        logFile,
        component: C,
        what: 'apt-get install postgresql',
      }).catch((e: unknown) => {
        throw new InfraError(`${(e as Error).message}\n  Next: run "apt-get install -y postgresql postgresql-contrib" by hand to see the problem.`);
      });
    });
    inst = findBinDir();
    if (!inst) throw new InfraError('apt-get install postgresql finished but no /usr/lib/postgresql/*/bin/initdb was found');
    if (!hasTrgm(inst)) throw new InfraError(`pg_trgm.control missing for PostgreSQL ${inst.major}; install postgresql-contrib`);
    log(C, `installed PostgreSQL ${inst.major} in ${elapsed(t0)}`);
  }
  installed = inst;
  return inst;
}

/** Postgres refuses to run as root: pick an unprivileged account when we are root. */
function serverAccount(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (u.status === 0 && g.status === 0) return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()), name };
  }
  throw new InfraError('running as root but neither a "postgres" nor a "nobody" user exists. Next: useradd --system postgres');
}

/**
 * A pristine initdb output cached per major version (initdb costs ~1s, a copy ~0.1s).
 * initdb runs as the server account in a temp dir (the cache may not be readable by it), then is copied.
 */
async function templateDir(inst: PostgresInstall, acct: ReturnType<typeof serverAccount>): Promise<string> {
  // C.UTF-8, as the container image's entrypoint: code point order, case folded in every script.
  const tpl = path.join(cacheDir(), `postgres-${inst.major}-c.utf8-template`);
  if (fs.existsSync(path.join(tpl, 'PG_VERSION'))) return tpl;
  return withLock(path.basename(tpl), async () => {
    if (fs.existsSync(path.join(tpl, 'PG_VERSION'))) return tpl;
    const t0 = Date.now();
    const work = serviceDir('initdb');
    try {
      if (acct) fs.chownSync(work, acct.uid, acct.gid);
      const data = path.join(work, 'data');
      await run(path.join(inst.binDir, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'], {
        cwd: work,
        ...(acct ? { uid: acct.uid, gid: acct.gid } : {}),
        logFile: path.join(work, 'initdb.log'),
      });
      const tmp = `${tpl}.tmp-${process.pid}`;
      rmrf(tmp);
      fs.cpSync(data, tmp, { recursive: true });
      fs.renameSync(tmp, tpl);
      log(C, `initdb template for PostgreSQL ${inst.major} cached in ${elapsed(t0)}`);
      return tpl;
    } finally {
      rmrf(work);
    }
  });
}

function chownR(p: string, uid: number, gid: number): void {
  fs.chownSync(p, uid, gid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownR(path.join(p, e), uid, gid);
}

async function psql(inst: PostgresInstall, port: number, db: string, sql: string): Promise<string> {
  return run(path.join(inst.binDir, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-f', '-'], {
    input: sql,
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
}

/** Start a fresh cluster; resolves when `database` exists and pg_trgm is verified. */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const t0 = Date.now();
  const inst = await ensurePostgresInstalled();
  const acct = serverAccount();
  const tpl = await templateDir(inst, acct);
  const database = opts.database ?? 'taskmesh';

  const dir = serviceDir('postgres');
  const guard = serviceGuard(C, dir);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  fs.cpSync(tpl, data, { recursive: true });
  fs.chmodSync(data, 0o700);
  if (acct) chownR(dir, acct.uid, acct.gid);

  let proc: ServerProcess | undefined;
  let port = 0;
  const spawnPostgres = (): ServerProcess => {
    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: 200,
      ...opts.settings,
    };
    const args = ['-D', data, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const proc = spawnServer({
      name: C,
      command: path.join(inst.binDir, 'postgres'),
      args,
      logFile,
      cwd: dir,
      ...(acct ? { uid: acct.uid, gid: acct.gid } : {}),
      stopSignal: 'SIGINT', // "fast" shutdown
      stopTimeoutMs: 10_000,
    });
    guard.proc = proc;
    return proc;
  };
  const waitReady = (p: ServerProcess, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        await run(path.join(inst.binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '1']);
        return true;
      },
      { timeoutMs, what: `PostgreSQL on 127.0.0.1:${port}`, intervalMs: 100, component: C, proc: p },
    );
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      proc = spawnPostgres();
      const p = port;
      try {
        await waitReady(proc);
        break;
      } catch (e) {
        if (attempt < 3 && /could not bind|Address already in use/.test(proc.logTail(10))) {
          log(C, `port ${p} was taken, retrying with another port`);
          await proc.stop();
          continue;
        }
        throw e;
      }
    }
    await psql(inst, port, 'postgres', `CREATE DATABASE ${database};`);
    // verify the contrib extension is installable without leaving it behind (migrations create it)
    await psql(inst, port, database, 'BEGIN; CREATE EXTENSION pg_trgm; ROLLBACK;').catch((e: unknown) => {
      throw new InfraError(`CREATE EXTENSION pg_trgm failed: ${(e as Error).message}\n  Next: apt-get install -y postgresql-contrib`);
    });
  } catch (e) {
    await guard.fail();
    throw e;
  }

  log(C, `PostgreSQL ${inst.major} ready on 127.0.0.1:${port} in ${elapsed(t0)}`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    host: '127.0.0.1',
    user: 'postgres',
    database,
    dataDir: data,
    logFile,
    async restart({ signal } = {}) {
      const tr = Date.now();
      await guard.proc!.stop(signal && { signal });
      // after a crash the server replays its WAL before it accepts connections
      await waitReady(spawnPostgres(), 120_000);
      log(C, `restarted on 127.0.0.1:${port} in ${elapsed(tr)}`);
    },
    stop: () => guard.shutdown(),
  };
}

/** Smoke test: start, query, pg_trgm in a real table, stop. */
export async function smokePostgres(): Promise<void> {
  const pg = await startPostgres();
  try {
    const inst = await ensurePostgresInstalled();
    const out = await psql(
      inst,
      pg.port,
      pg.database,
      `CREATE EXTENSION pg_trgm;
       CREATE TABLE t (s text);
       INSERT INTO t VALUES ('taskmesh'), ('task mesh'), ('unrelated');
       CREATE INDEX t_trgm ON t USING gin (s gin_trgm_ops);
       SELECT current_database() || ' ' || split_part(version(), ' ', 2) || ' ' || (SELECT count(*) FROM t WHERE s % 'taskmsh') || ' ' || current_setting('max_connections') || ' fsync=' || current_setting('fsync');`,
    );
    log(C, `smoke ok: ${out.trim()}`);
  } finally {
    await pg.stop();
  }
}

if (isMain(import.meta.url)) {
  await serviceCli('postgres', {
    install: async () => {
      const inst = await ensurePostgresInstalled();
      await templateDir(inst, serverAccount());
      log(C, `PostgreSQL ${inst.major} at ${inst.binDir}`);
    },
    start: async () => {
      const pg = await startPostgres();
      return { env: { DATABASE_URL: pg.url }, stop: () => pg.stop() };
    },
    smoke: smokePostgres,
  });
}
