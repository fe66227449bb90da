// Stripe for the browser tests, with no network: the node charges through
// tests/e2e/fake_stripe.py (a Stripe-shaped HTTPS server with its own CA),
// and the browser's requests to js.stripe.com and api.stripe.com are
// answered by Playwright from e2e/fake-stripe/ (a Stripe.js stand-in) and
// from the card numbers below. The page's content security policy still
// decides whether each request may leave the page: it names Stripe's real
// origins, which is what the tests check.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { createInterface } from "node:readline";
import { join, resolve } from "node:path";
import { uiDir } from "./node.mjs";

/** Stripe's test card numbers and the test PaymentMethods they stand for
 * (fake_stripe.py charges those as Stripe's test mode does). */
const testCardMethods = {
  "4242424242424242": "pm_card_visa",
  "5555555555554444": "pm_card_mastercard",
  "4000000000000002": "pm_card_chargeDeclined",
  "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
  "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
  "4000002500003155": "pm_card_authenticationRequired",
};

/** Starts fake_stripe.py; resolves to { url, ca_file, api_key, stop() }. */
export async function startFakeStripe() {
  const script = resolve(uiDir, "../tests/e2e/fake_stripe.py");
  const proc = spawn("python3", [script], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout });
  const first = await new Promise((ok, fail) => {
    lines.once("line", ok);
    proc.once("exit", (code) => fail(new Error(`fake_stripe.py exited with ${code}`)));
  });
  const where = JSON.parse(first);
  return {
    ...where,
    async stop() {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.stdin.end(); // it stops and removes its certificates
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

/** POSTs a form to fake_stripe.py over its own CA; resolves to the status. */
function postToFake(fake, path, form) {
  return new Promise((ok, fail) => {
    const body = new URLSearchParams(form).toString();
    const req = httpsRequest(
      fake.url + path,
      { method: "POST", ca: readFileSync(fake.ca_file), headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => ok(res.statusCode));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

const fakeDir = join(uiDir, "e2e", "fake-stripe");
const files = {
  "/v3/": ["stripe.js", "text/javascript"],
  "/v3/elements-inner-card.html": ["elements-inner-card.html", "text/html"],
  "/v3/elements-inner-card.js": ["elements-inner-card.js", "text/javascript"],
};

function stripeError(status, error) {
  return { status, contentType: "application/json", headers: { "Access-Control-Allow-Origin": "*" }, body: JSON.stringify({ error }) };
}

const bankFiles = {
  "/3d_secure_2/hosted": ["three-d-secure.html", "text/html"],
  "/3d_secure_2/three-d-secure.js": ["three-d-secure.js", "text/javascript"],
};

/** Answers the browser's Stripe requests in `context`; returns what reached
 * "Stripe": { scripts: [paths], apiCalls: [{ path, params }], authentications:
 * [{ intent, outcome }] }. `fake` (startFakeStripe's) learns the holder's
 * 3-D Secure answers. */
export async function routeStripe(context, publishableKey, fake = null) {
  const seen = { scripts: [], apiCalls: [], authentications: [] };
  await context.route("https://hooks.stripe.com/**", async (route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname;
    if (request.method() === "POST" && path === "/3d_secure_2/authenticate" && fake) {
      const params = Object.fromEntries(new URLSearchParams(request.postData() ?? ""));
      const intent = (params.client_secret ?? "").split("_secret_")[0];
      seen.authentications.push({ intent, outcome: params.outcome });
      const status = await postToFake(fake, "/_test/authenticate", { intent, outcome: params.outcome });
      return route.fulfill({ status, contentType: "application/json", body: "{}" });
    }
    const file = bankFiles[path];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, contentType: file[1], body: readFileSync(join(fakeDir, file[0])) });
  });
  await context.route("https://js.stripe.com/**", (route) => {
    const path = new URL(route.request().url()).pathname;
    seen.scripts.push(path);
    const file = files[path];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, contentType: file[1], body: readFileSync(join(fakeDir, file[0])) });
  });
  await context.route("https://api.stripe.com/**", (route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname;
    const params = Object.fromEntries(new URLSearchParams(request.postData() ?? ""));
    seen.apiCalls.push({ path, params });
    if (params.key !== publishableKey)
      return route.fulfill(stripeError(401, { type: "invalid_request_error", message: "Invalid API Key provided" }));
    if (path === "/v1/elements/sessions")
      return route.fulfill({ status: 200, contentType: "application/json", headers: { "Access-Control-Allow-Origin": "*" }, body: JSON.stringify({ object: "elements_session", livemode: false }) });
    if (path !== "/v1/payment_methods")
      return route.fulfill(stripeError(404, { type: "invalid_request_error", message: "Unrecognized request URL" }));
    const id = testCardMethods[params["card[number]"]];
    if (!id)
      return route.fulfill(stripeError(402, {
        type: "card_error", code: "card_declined",
        message: "Your card was declined. Your request was in test mode, but used a non test card.",
      }));
    return route.fulfill({
      status: 200, contentType: "application/json", headers: { "Access-Control-Allow-Origin": "*" },
      body: JSON.stringify({ id, object: "payment_method", type: "card", card: { last4: params["card[number]"].slice(-4) } }),
    });
  });
  return seen;
}
