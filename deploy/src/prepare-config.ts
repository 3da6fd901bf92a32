// The release hook's settings (deploy/src/prepare.ts).
import { databaseSettings, defineConfig, httpUrl, required, telemetrySettings, values } from "@taskmesh/kit";

export const prepareConfig = defineConfig("prepare", {
  telemetry: telemetrySettings,
  database: databaseSettings,
  registry: values({ SCHEMA_REGISTRY_URL: required(httpUrl, "the schema registry the event schemas are registered in (Confluent-compatible API)") }),
});
