// The environment variables that steer the infrastructure of tests, benchmarks and the local stack,
// each named once here. A value is read when asked for, not at import: the test command, benches and
// the stack set some of them after this module loads. An empty value counts as unset (shells and CI
// files write unset that way); a value that cannot be meant stops with an error naming the variable.
// This module imports nothing of the package, so every module of it can read settings at import.
import os from 'node:os';
import path from 'node:path';

function read(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function port(name: string, fallback: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${JSON.stringify(raw)}: expected a TCP port number (1 to 65535)`);
  return n;
}

/** `1` on, `0` or unset off. */
function flag(name: string): boolean {
  const raw = read(name);
  if (raw === undefined || raw === '0') return false;
  if (raw === '1') return true;
  throw new Error(`${name}=${JSON.stringify(raw)}: expected 1 (on) or 0 (off)`);
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/$/, '');
}

export const infraSettings = {
  /** TASKMESH_CACHE: where tools are installed and their data kept (default ~/.cache/taskmesh). */
  get cacheRoot(): string {
    return read('TASKMESH_CACHE') ?? path.join(os.homedir(), '.cache', 'taskmesh');
  },
  /** TASKMESH_RUN_DIR: the folder for this process's data dirs and logs (default a fresh $TMPDIR/taskmesh-run-XXXXXX). */
  get runDir(): string | undefined {
    return read('TASKMESH_RUN_DIR');
  },
  /** TASKMESH_KEEP_INFRA=1: stopping keeps data dirs and logs, for debugging. */
  get keepInfra(): boolean {
    return flag('TASKMESH_KEEP_INFRA');
  },
  /** TASKMESH_INFRA_INSTANCE: names a stack's state file, so several stacks run side by side. */
  get instance(): string | undefined {
    return read('TASKMESH_INFRA_INSTANCE');
  },
  /** TASKMESH_MAVEN_REPO: the Maven repository Kafka and Apicurio are downloaded from (default Maven Central). */
  get mavenRepo(): string {
    return withoutTrailingSlash(read('TASKMESH_MAVEN_REPO') ?? 'https://repo1.maven.org/maven2');
  },
  /** JAVA_HOME: the JDK to run Kafka and Apicurio with (default java on PATH). */
  get javaHome(): string | undefined {
    return read('JAVA_HOME');
  },
  /** TASKMESH_NO_CDS=1: no class-data-sharing archives for the JVMs (they start slower). */
  get noCds(): boolean {
    return flag('TASKMESH_NO_CDS');
  },
  /** TASKMESH_KAFKA_VERSION: any 4.x on Maven Central (default 4.1.2). */
  get kafkaVersion(): string {
    return read('TASKMESH_KAFKA_VERSION') ?? '4.1.2';
  },
  /** TASKMESH_APICURIO_VERSION: the schema registry's version (default 3.0.9; 3.3.x needs JAVA_HOME at a JDK 21). */
  get apicurioVersion(): string {
    return read('TASKMESH_APICURIO_VERSION') ?? '3.0.9';
  },
  /** TASKMESH_PG_BIN: a folder with PostgreSQL's initdb and postgres (default an installed or downloaded one). */
  get pgBin(): string | undefined {
    return read('TASKMESH_PG_BIN');
  },
  /** TASKMESH_PYTHON: the interpreter the tests' virtualenvs are made with (default python3.11). */
  get python(): string {
    return read('TASKMESH_PYTHON') ?? 'python3.11';
  },
  /** TASKMESH_CHROMIUM: the Chromium to drive (default /usr/bin/chromium or /usr/bin/chromium-browser). */
  get chromium(): string | undefined {
    return read('TASKMESH_CHROMIUM');
  },
  /** TASKMESH_TEST_DAPRD: the daprd the test command built, for the tests' Dapr meshes. */
  get testDaprd(): string | undefined {
    return read('TASKMESH_TEST_DAPRD');
  },
  /** TASKMESH_TEST_DAPR_SCHEDULER: the scheduler the test command built, for the same meshes. */
  get testDaprScheduler(): string | undefined {
    return read('TASKMESH_TEST_DAPR_SCHEDULER');
  },
  /** TASKMESH_DAPR_LOG_LEVEL: daprd's and the scheduler's log level (default info). */
  get daprLogLevel(): string {
    return read('TASKMESH_DAPR_LOG_LEVEL') ?? 'info';
  },
  /** DOCKER_HOST: the container engine testcontainers talks to (default podman's socket, started on demand). */
  get dockerHost(): string | undefined {
    return read('DOCKER_HOST');
  },
  /** TASKMESH_CONTAINERS_ROOT: a podman storage of its own for images and containers (default podman's). */
  get containersRoot(): string | undefined {
    return read('TASKMESH_CONTAINERS_ROOT');
  },
  /** TASKMESH_IMAGE_NODE_VERSION: the Node.js in the images (default 24.22.3). */
  get imageNodeVersion(): string {
    return read('TASKMESH_IMAGE_NODE_VERSION') ?? '24.22.3';
  },
  /** TASKMESH_DEBIAN_MIRROR: where the images' Debian packages come from (default deb.debian.org). */
  get debianMirror(): string {
    return withoutTrailingSlash(read('TASKMESH_DEBIAN_MIRROR') ?? 'http://deb.debian.org/debian');
  },
  /** TASKMESH_DEBIAN_SECURITY_MIRROR: where their security updates come from (default deb.debian.org). */
  get debianSecurityMirror(): string {
    return withoutTrailingSlash(read('TASKMESH_DEBIAN_SECURITY_MIRROR') ?? 'http://deb.debian.org/debian-security');
  },
  /** NODE_EXTRA_CA_CERTS: a CA file the image builds trust too (a proxy's). */
  get extraCaFile(): string | undefined {
    return read('NODE_EXTRA_CA_CERTS');
  },
  /** TASKMESH_IMAGES_REBUILD=1: images are built again though present. */
  get imagesRebuild(): boolean {
    return flag('TASKMESH_IMAGES_REBUILD');
  },
  /**
   * TASKMESH_TEST_IMAGES=0: the tests neither build nor use images. (The test command passes its
   * test processes the images it built in the same variable, which is then not 0.)
   */
  get testImagesOff(): boolean {
    return read('TASKMESH_TEST_IMAGES') === '0';
  },
  /** TASKMESH_CLUSTER_DIR: every file of the local cluster (default $TMPDIR/taskmesh-cluster). */
  get clusterDir(): string {
    return read('TASKMESH_CLUSTER_DIR') ?? path.join(os.tmpdir(), 'taskmesh-cluster');
  },
  /** TASKMESH_CLUSTER_APISERVER_PORT: the local cluster's API server (default 16443). */
  get clusterApiserverPort(): number {
    return port('TASKMESH_CLUSTER_APISERVER_PORT', 16443);
  },
  /** TASKMESH_CLUSTER_INGRESS_PORT: where the local cluster's Ingress answers on the node (default 18080). */
  get clusterIngressPort(): number {
    return port('TASKMESH_CLUSTER_INGRESS_PORT', 18080);
  },
  /**
   * TASKMESH_CLUSTER_IMAGES: which of podman's images are loaded into the local cluster, a regular
   * expression over `repository:tag` (default the app images of images.ts,
   * `localhost/taskmesh/<deployable>:local`), or 0 for none.
   */
  get clusterImages(): RegExp | undefined {
    const raw = read('TASKMESH_CLUSTER_IMAGES') ?? '^localhost/taskmesh/[a-z-]+:local$';
    if (raw === '0') return undefined;
    try {
      return new RegExp(raw);
    } catch (e) {
      throw new Error(`TASKMESH_CLUSTER_IMAGES=${JSON.stringify(raw)}: expected a regular expression or 0 (${(e as Error).message})`);
    }
  },
};
