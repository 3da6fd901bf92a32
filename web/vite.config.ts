import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { compression } from "vite-plugin-compression2";

// `npm run dev -w web` proxies the APIs and /live to a running `npm start` (TASKMESH_URL, default :8080).
const target = process.env.TASKMESH_URL ?? "http://localhost:8080";

export default defineConfig({
  // A Brotli and a gzip copy of each text file over 1 KiB, which the gateway sends to browsers that
  // accept them (gateway/src/static-files.ts); source maps stay as they are.
  plugins: [react(), compression({ algorithms: ["brotliCompress", "gzip"], include: /\.(html|m?js|css|json|webmanifest|svg|txt)$/, threshold: 1024 })],
  // One bundle of ~175 kB gzipped (React, protobuf descriptors, Temporal): fine for an app loaded once.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      "^/taskmesh\\.": { target, changeOrigin: true },
      "/live": { target, ws: true },
    },
  },
});
