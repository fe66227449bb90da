/// <reference types="vitest/config" />
// Vite builds the storefront into dist/, which the node's edge serves.
// JSX goes through esbuild's automatic runtime, so no React plugin is needed
// (one fewer package to install on a closed network).
import { defineConfig } from "vite";

const backend = process.env.EMPORIUM_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  // `npm run dev` serves the UI with hot reload and forwards the API to a node.
  server: {
    proxy: {
      "/api": backend,
      "/health": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
