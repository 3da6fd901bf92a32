// Types of project-node.mjs (plain JavaScript: the machine's node runs it, any Node ≥ 18) for the tests.
export function cacheRoot(): string;
export function fail(message: string): never;
export function nodeTooOld(): boolean;
export function ensureNode(options?: { note?: boolean }): Promise<string>;
export function runAsOnlyChild(node: string, args: string[], options?: import("node:child_process").SpawnOptions): void;
