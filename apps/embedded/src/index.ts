// The embedded app as a library, for what starts it in-process or reads its data folder (tests, benches).
export { embeddedConfig, type EmbeddedConfig } from "./config.js";
export { startEmbeddedApp, type EmbeddedApp } from "./embedded.js";
export { POSTGRES_FOLDER } from "./pglite-upgrade.js";
