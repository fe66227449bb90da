// Starts the real emporium binary on a free 127.0.0.1 port with its own
// data directory and this UI's build as its static files.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const uiDir = resolve(import.meta.dirname, "..");
export const admin = { email: "admin@ui-e2e.test", password: "admin-pass-1" };

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startNode(extraArgs = [], extraEnv = {}) {
  const binary = process.env.EMPORIUM_TEST_BINARY ?? resolve(uiDir, "../build/test/emporium");
  const dataDir = mkdtempSync(join(tmpdir(), "emporium-ui-e2e-"));
  const port = await freePort();
  const logPath = join(dataDir, "node.log");
  const log = openSync(logPath, "a");
  const proc = spawn(
    binary,
    ["--port", String(port), "--metrics-port", "0", "--data-dir", dataDir, "--static-dir", join(uiDir, "dist"), ...extraArgs],
    {
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        EMPORIUM_JWT_SECRET: "ui-e2e-secret-0123456789abcdef0123456789abcdef",
        EMPORIUM_ADMIN_EMAIL: admin.email,
        EMPORIUM_ADMIN_PASSWORD: admin.password,
        ...extraEnv,
      },
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`node exited: ${readFileSync(logPath, "utf8")}`);
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("node did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    /** The node's log lines so far, as the JSON objects it writes. */
    logEntries() {
      return readFileSync(logPath, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line));
    },
    async api(path, init = {}) {
      const res = await fetch(base + path, {
        ...init,
        headers: { "Content-Type": "application/json", ...(init.headers ?? {}) },
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      const code = proc.exitCode;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
