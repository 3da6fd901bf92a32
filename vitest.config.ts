// The test suites: every `*.test.ts` under a `test/` folder, in two projects.
//
// - unit: needs nothing started (no PostgreSQL, Kafka, registry, daprd, Chromium, podman, Go tools,
//   Python or other service): parsers, engines, configs, in-process servers. `npm run test:unit`
//   runs them in seconds. A file is unit when it is listed in UNIT below; add a new file there when
//   it needs nothing, otherwise it is integration.
// - integration: everything else, against the real infrastructure `npm test` starts (scripts/test.ts).
//
// Every test has a timeout, so one that waits for something that never comes (a lost notification,
// a stuck consumer) fails instead of holding the run: unit 60 s per test and hook, integration
// 120 s per test and 300 s per hook; the few longer ones set their own (`test(name, { timeout }, fn)`).
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

const UNIT = [
  "apps/embedded/test/config.test.ts",
  "cli/test/watch.test.ts",
  "apps/embedded/test/first-use-loading.test.ts",
  "deploy/test/images.test.ts",
  "gateway/test/config.test.ts",
  "gateway/test/mesh.test.ts",
  "packages/events/test/handle-by-key.test.ts",
  "packages/events/test/leaders-elected.test.ts",
  "packages/events/test/shared-log.test.ts",
  "packages/events/test/wire-format.test.ts",
  "packages/db/test/statement-preparation.test.ts",
  "packages/filter/test/errors.test.ts",
  "packages/infra/test/free-ports.test.ts",
  "packages/filter/test/parser.test.ts",
  "packages/filter/test/properties.test.ts",
  "packages/filter/test/questions.test.ts",
  "packages/interchange/test/calendar-feed.test.ts",
  "packages/interchange/test/readers.test.ts",
  "packages/kit/test/drain.test.ts",
  "packages/kit/test/first-use.test.ts",
  "packages/kit/test/tracing.test.ts",
  "packages/kit/test/wire.test.ts",
  "packages/quick-add/test/pick-project.test.ts",
  "packages/quick-add/test/pick-section.test.ts",
  "packages/rrule/test/set-positions.test.ts",
  "packages/transport/test/http2-sessions.test.ts",
  "packages/transport/test/in-process.test.ts",
  "packages/transport/test/passed-deadlines.test.ts",
  "packages/infra/test/run.test.ts",
  "packages/infra/test/settings.test.ts",
  "scripts/test/app-node.test.ts",
  "scripts/test/settings-table.test.ts",
  "services/recurrence/test/beyond-9999.test.ts",
  "services/tasks/test/due-day.test.ts",
  "services/recurrence/test/engine.test.ts",
  "services/recurrence/test/next-occurrence.test.ts",
  "services/recurrence/test/phrases.test.ts",
  "services/recurrence/test/property.test.ts",
  "services/recurrence/test/service.test.ts",
  "services/reminders/test/config.test.ts",
  "services/reminders/test/webhook-signing.test.ts",
  "services/reminders/test/webhook-target.test.ts",
  "web/test/days.test.ts",
  "web/test/parse-quick-add.test.ts",
  "web/test/query-tokens.test.ts",
  "web/test/quick-add-corpus.test.ts",
  "web/test/task-form.test.ts",
  "web/test/task-tree.test.ts",
];

// The longest files start first, so that with several files at once the run does not end waiting
// on one that started last (on a quiet 2-core machine: the cluster ~7-10 min, chaos 2-3 min, Kafka
// behind a cut link, the traces and metrics, dateutil's 4,000 rules 1-2 min each, then the others).
const LONG = [
  "deploy/test/cluster.test.ts",
  "deploy/test/chaos.test.ts",
  "deploy/test/images-run.test.ts",
  "packages/events/test/kafka-bus.test.ts",
  "gateway/test/cluster-trace.test.ts",
  "services/recurrence/test/rfc5545-dateutil.test.ts",
  "packages/kit/test/conformance.test.ts",
  "gateway/test/fuzz.test.ts",
  "deploy/test/zero-downtime.test.ts",
  "web/test/push.test.ts",
  "web/test/browser.test.ts",
  "web/test/views.test.ts",
];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = LONG.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return i === -1 ? LONG.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

const files = ["**/test/**/*.test.ts"];
const exclude = ["**/node_modules/**", "**/.*/**"];

export default defineConfig({
  test: {
    // Tests spawn processes and load native modules: each file in a child process of its own.
    pool: "forks",
    // Files run at once. Two: the cluster test (a Kubernetes of its own, 7-11 min) holds one worker
    // while the other files run beside it; more made timing-sensitive tests fail on two cores.
    maxWorkers: Number(process.env.TASKMESH_TEST_CONCURRENCY ?? 2),
    sequence: { sequencer: LongFirst },
    projects: [
      {
        extends: true,
        // One process for all its files (half the CPU of one each); its slowest tests, the
        // property checks, take under 1 s on a quiet machine and 15-30 s when it is overloaded.
        test: { name: "unit", include: UNIT, isolate: false, testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: "integration", include: files, exclude: [...exclude, ...UNIT], testTimeout: 120_000, hookTimeout: 300_000 },
      },
    ],
  },
});
