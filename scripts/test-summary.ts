// The last line of a test run, plain for a CI log and for scripts that read it:
// `N passed, N failed, N skipped, N todo`, after vitest's own summary. Errors outside any test (a file
// that does not load, a failing hook, an unhandled rejection) are counted on the line before it.
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class Summary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
    let outside = unhandledErrors.length;
    for (const module of modules) {
      outside += module.errors().length;
      for (const test of module.children.allTests()) {
        const { state } = test.result();
        if (state === "passed" || state === "failed") counts[state]++;
        else if (state === "skipped") counts[test.options.mode === "todo" ? "todo" : "skipped"]++;
      }
    }
    if (outside > 0) process.stdout.write(`${outside} error${outside === 1 ? "" : "s"} outside tests (above)\n`);
    process.stdout.write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.todo} todo\n`);
  }
}
