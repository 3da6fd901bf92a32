import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev -w web` proxies the APIs and /live to a running `npm start` (TASKMESH_URL, default :8080).
const target = process.env.TASKMESH_URL ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  // One bundle of ~175 kB gzipped (React, protobuf descriptors, Temporal): fine for an app loaded once.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      "^/taskmesh\\.": { target, changeOrigin: true },
      "/live": { target, ws: true },
    },
  },
});
