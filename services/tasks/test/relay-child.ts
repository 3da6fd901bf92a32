// A task-service outbox relay in its own process, so a test can SIGKILL it mid-stream.
import { openKafkaBus } from "@taskmesh/events";
import { openDatabase } from "@taskmesh/db";
import { createLogger } from "@taskmesh/kit";
import { migrations } from "../src/migrations/index.js";
import { OutboxRelay } from "../src/outbox-relay.js";

const logger = createLogger("relay-child");
const bus = (await openKafkaBus({ brokers: process.env.KAFKA_BROKERS!.split(","), registryUrl: process.env.SCHEMA_REGISTRY_URL! }, logger))!;
const db = await openDatabase({ url: process.env.DATABASE_URL!, schema: "tasks", entities: [], migrations });
// Small batches, so the kill lands between a publish and the delete that follows it.
const relay = new OutboxRelay(db, { send: (records) => bus.publish(records) }, logger, { batchSize: 20 });
await relay.start();
process.stdout.write("relaying\n");
