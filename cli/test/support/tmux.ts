// tmux for the terminal test, installed with apt-get when missing (the apt lock the other installs
// take, so two runs never race dpkg), and a pane driven as a user types: send-keys, then
// capture-pane until the screen shows what is expected.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { cacheDir, InfraError, log, run, which, withLock } from "@taskmesh/testing/infra";

export async function ensureTmux(): Promise<string> {
  const found = which("tmux");
  if (found) return found;
  if (process.getuid?.() !== 0) throw new InfraError("tmux not found and not running as root.\n  Next: sudo apt-get install -y tmux");
  await withLock("apt", async () => {
    if (which("tmux")) return;
    const logFile = path.join(cacheDir("logs"), "apt-tmux.log");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    log("tmux", `installing tmux with apt-get (log: ${logFile})`);
    await run("apt-get", ["update"], { env, logFile, component: "tmux", what: "apt-get update" });
    await run("apt-get", ["install", "-y", "--no-install-recommends", "tmux"], { env, logFile, component: "tmux", what: "apt-get install tmux" });
  });
  const installed = which("tmux");
  if (!installed) throw new InfraError("apt-get install tmux finished but there is no tmux on PATH");
  return installed;
}

/** A tmux server of the test's own (its own socket), with one session; panes are addressed as "session:window". */
export class Terminal {
  constructor(
    private readonly tmux: string,
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  #run(...args: string[]): string {
    return execFileSync(this.tmux, ["-S", this.socket, ...args], { env: this.env, encoding: "utf8" });
  }

  /** A new window running a plain bash (no rc files: the user's prompt and aliases stay out), its prompt "$ ". */
  open(name: string): string {
    const target = `t:${name}`;
    const shell = "env PS1='$ ' bash --norc --noprofile";
    if (name === "main") this.#run("new-session", "-d", "-s", "t", "-n", name, "-x", "200", "-y", "50", shell);
    else this.#run("new-window", "-t", "t", "-n", name, shell);
    return target;
  }

  /** Types a line and Enter, once the screen and its scrollback are cleared (so a wait sees only what follows). */
  async type(target: string, line: string): Promise<void> {
    this.#run("send-keys", "-t", target, "clear", "Enter");
    await this.waitFor(target, /^\$\s*$/, { untilPrompt: false, timeoutMs: 10_000 });
    this.#run("clear-history", "-t", target);
    this.#run("send-keys", "-t", target, "-l", line);
    this.#run("send-keys", "-t", target, "Enter");
  }

  keys(target: string, ...keys: string[]): void {
    this.#run("send-keys", "-t", target, ...keys);
  }

  screen(target: string): string {
    return this.#run("capture-pane", "-p", "-J", "-t", target, "-S", "-500");
  }

  /** The screen once it matches `pattern` (and the prompt is back, when `untilPrompt`). */
  async waitFor(target: string, pattern: RegExp, { timeoutMs = 60_000, untilPrompt = true } = {}): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen(target);
      const match = pattern.exec(screen);
      if (match && (!untilPrompt || /\n\$ *\s*$/.test(screen))) return match;
      if (Date.now() > deadline) throw new Error(`the terminal did not show ${pattern} within ${timeoutMs} ms; it shows:\n${screen.trimEnd()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  close(): void {
    try {
      this.#run("kill-server");
    } catch {
      // Already gone.
    }
  }
}
