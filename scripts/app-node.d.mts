// Types of app-node.mjs (plain JavaScript: the launcher runs it on any Node ≥ 18) for the benchmarks.
export function appNodeArgs(nodeOptions?: string): string[];
export function appNodeEnv(env?: NodeJS.ProcessEnv): Record<string, string>;
