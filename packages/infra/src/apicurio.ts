/**
 * Apicurio Registry 3 (Quarkus app) from its Maven Central distribution
 * `io.apicurio:apicurio-registry-app:<v>:all@tar.gz`, in-memory H2 storage, on a free port.
 *
 *   tsx packages/infra/src/apicurio.ts start|stop|status|smoke|install
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InfraError, appCds, cacheDir, elapsed, freePort, isMain, java, log, mavenDownload, mavenUrl, rmrf, run, serviceDir, serviceGuard, spawnServer, waitFor, withLock } from './cache.js';
import type { ServerProcess } from './cache.js';
import { serviceCli } from './cli.js';
import { infraSettings } from './settings.js';

const C = 'apicurio';

/**
 * 3.0.9 is the newest Apicurio Registry 3 release on Maven Central that runs on Java 17
 * (3.3.x is compiled for Java 21: UnsupportedClassVersionError on 17).
 * Override with TASKMESH_APICURIO_VERSION (and JAVA_HOME pointing at a JDK 21 for 3.3.x).
 */
export const APICURIO_VERSION = infraSettings.apicurioVersion;

export interface ApicurioHandle {
  /** base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** url + '/apis/ccompat/v7' (Confluent Schema Registry compatible API) */
  ccompatUrl: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartApicurioOptions {
  /** extra -D system properties (Quarkus / Apicurio config) */
  properties?: Record<string, string | number | boolean>;
  /** JVM heap flags (default -Xms64m -Xmx512m) */
  heap?: string[];
}

/** Download + unpack the Quarkus distribution once per version; returns the runnable jar. */
export async function ensureApicurioInstalled(version = APICURIO_VERSION): Promise<string> {
  const home = path.join(cacheDir(), `apicurio-registry-${version}`);
  const find = (): string | undefined => {
    if (!fs.existsSync(path.join(home, '.complete'))) return undefined;
    const jar = fs.readdirSync(home).find((f) => f === 'quarkus-run.jar' || f.endsWith('-runner.jar'));
    return jar ? path.join(home, jar) : undefined;
  };
  const existing = find();
  if (existing) return existing;
  return withLock(`apicurio-${version}`, async () => {
    const again = find();
    if (again) return again;
    const t0 = Date.now();
    const file = `apicurio-registry-app-${version}-all.tar.gz`;
    const url = mavenUrl('io.apicurio', 'apicurio-registry-app', version, file);
    const tgz = path.join(cacheDir('downloads'), file);
    await mavenDownload(url, tgz, C).catch((e: unknown) => {
      throw new InfraError(
        `${(e as Error).message}\n  Next: check that version ${version} exists (https://repo1.maven.org/maven2/io/apicurio/apicurio-registry-app/maven-metadata.xml) or unset TASKMESH_APICURIO_VERSION.`,
      );
    });
    const tmp = `${home}.tmp-${process.pid}`;
    rmrf(tmp);
    fs.mkdirSync(tmp, { recursive: true });
    log(C, `extracting ${file}`);
    await run('tar', ['-xzf', tgz, '-C', tmp]);
    const jar = fs.readdirSync(tmp).find((f) => f === 'quarkus-run.jar' || f.endsWith('-runner.jar'));
    if (!jar) throw new InfraError(`${file} contains no quarkus-run.jar / *-runner.jar (layout changed?); see ${tmp}`);
    fs.writeFileSync(path.join(tmp, '.complete'), `${url}\n`);
    rmrf(home);
    fs.renameSync(tmp, home);
    rmrf(tgz); // the unpacked tree is the cache entry
    log(C, `Apicurio Registry ${version} cached in ${elapsed(t0)}`);
    return path.join(home, jar);
  });
}

/** Start the registry; resolves when GET /apis/ccompat/v7/subjects returns 200. */
export async function startApicurio(opts: StartApicurioOptions = {}): Promise<ApicurioHandle> {
  const t0 = Date.now();
  const jar = await ensureApicurioInstalled();
  const javaBin = java(17, `Apicurio Registry ${APICURIO_VERSION}`);
  const dir = serviceDir('apicurio');
  const guard = serviceGuard(C, dir);
  const logFile = path.join(dir, 'apicurio.log');
  let proc: ServerProcess | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const props: Record<string, string | number | boolean> = {
        'quarkus.http.host': '127.0.0.1',
        'quarkus.http.port': port,
        'quarkus.log.console.color': false,
        'apicurio.storage.kind': 'sql',
        'apicurio.storage.sql.kind': 'h2', // in-memory (jdbc:h2:mem:db_<uuid>)
        'apicurio.rest.deletion.group.enabled': true,
        'apicurio.rest.deletion.artifact.enabled': true,
        'apicurio.rest.deletion.artifact-version.enabled': true,
        'apicurio.import.work-dir': dir,
        'apicurio.storage.snapshot.location': dir,
        ...opts.properties,
      };
      const cds = appCds(`apicurio-${APICURIO_VERSION}`);
      proc = guard.proc = spawnServer({
        name: C,
        command: javaBin,
        args: [
          ...cds.args,
          ...(opts.heap ?? ['-Xms64m', '-Xmx512m']),
          // C1 only: ~30% faster startup; plenty for a test registry
          '-XX:TieredStopAtLevel=1',
          '-XX:+ExitOnOutOfMemoryError',
          '-Djava.awt.headless=true',
          `-Djava.io.tmpdir=${dir}`,
          ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
          '-jar',
          jar,
        ],
        logFile,
        cwd: dir,
        stopSignal: 'SIGTERM',
        stopTimeoutMs: 15_000,
      });
      let ready = false;
      void proc.exitPromise.then(() => cds.afterExit(ready));
      const url = `http://127.0.0.1:${port}/apis/ccompat/v7/subjects`;
      try {
        await waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200, {
          timeoutMs: 120_000,
          what: `Apicurio Registry (${url})`,
          intervalMs: 250,
          component: C,
          proc,
        });
        ready = true;
        break;
      } catch (e) {
        const tail = proc.logTail(80);
        if (attempt < 3 && /Address already in use|Port .* seems to be in use/.test(tail)) {
          log(C, `port ${port} was taken, retrying with another port`);
          await proc.stop();
          continue;
        }
        if (/UnsupportedClassVersionError/.test(tail)) {
          throw new InfraError(
            `Apicurio Registry ${APICURIO_VERSION} needs a newer Java than ${javaBin} (UnsupportedClassVersionError).\n` +
              `  Next: set JAVA_HOME to a JDK 21+, or use TASKMESH_APICURIO_VERSION=3.0.9 (runs on Java 17).`,
          );
        }
        throw e;
      }
    }
  } catch (e) {
    await guard.fail();
    throw e;
  }
  log(C, `Apicurio Registry ${APICURIO_VERSION} ready on 127.0.0.1:${port} in ${elapsed(t0)}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    ccompatUrl: `${url}/apis/ccompat/v7`,
    port,
    logFile,
    stop: () => guard.shutdown(),
  };
}

/** Smoke test: register a protobuf schema through the ccompat API and read it back. */
export async function smokeApicurio(): Promise<void> {
  const reg = await startApicurio();
  try {
    const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
    const res = await fetch(`${reg.ccompatUrl}/subjects/test-value/versions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; message A { string x = 1; }' }),
    });
    const body = (await res.json()) as { id?: number };
    if (res.status !== 200 || typeof body.id !== 'number') throw new InfraError(`register failed: HTTP ${res.status} ${JSON.stringify(body)}`);
    const got = (await (await fetch(`${reg.ccompatUrl}/schemas/ids/${body.id}`)).json()) as { schemaType?: string };
    log(C, `smoke: registered protobuf schema under test-value -> id ${body.id}; GET /schemas/ids/${body.id} schemaType=${got.schemaType}`);
  } finally {
    await reg.stop();
  }
}

if (isMain(import.meta.url)) {
  await serviceCli('apicurio', {
    install: async () => {
      const jar = await ensureApicurioInstalled();
      log(C, `Apicurio Registry ${APICURIO_VERSION}: ${jar}`);
    },
    start: async () => {
      const r = await startApicurio();
      return { env: { SCHEMA_REGISTRY_URL: r.ccompatUrl, APICURIO_URL: r.url }, stop: () => r.stop() };
    },
    smoke: smokeApicurio,
  });
}
