// Paying by card with Stripe's card form, in a real browser against the real
// binary set up for Stripe (payment-provider stripe, a publishable key): the
// page loads Stripe.js and its card frame under its content security
// policy, the card becomes a PaymentMethod at Stripe, and only its id
// reaches the shop, which charges it through (fake) Stripe; a card that
// asks for 3-D Secure gets the bank's page over the order page.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { accessibilityViolations, launch, screenshot } from "./browser.mjs";
import { startNode } from "./node.mjs";
import { Shop } from "./shop.mjs";
import { routeStripe, startFakeStripe } from "./stripe.mjs";

const publishableKey = "pk_test_51EmporiumUiE2e0123456789";
let stripe;
let node;
let browser;
let shop;

before(async () => {
  stripe = await startFakeStripe();
  node = await startNode(
    ["--payment-provider", "stripe", "--stripe-api-base", stripe.url, "--stripe-ca-file", stripe.ca_file,
      "--stripe-publishable-key", publishableKey],
    { EMPORIUM_STRIPE_SECRET_KEY: stripe.api_key },
  );
  browser = await launch();
  shop = new Shop(browser, node);
});

after(async () => {
  await browser?.close();
  const code = await node?.stop();
  await stripe?.stop();
  assert.equal(code, 0, "node exits cleanly on SIGTERM");
});

afterEach(() => shop.checkPolicy());

/** A new shopper with one product in the cart, on the cart page with the
 * card form loaded; every request the page sends to the shop is kept. */
async function atCheckout(email, viewport) {
  const page = await shop.newPage(viewport);
  const stripeSaw = await routeStripe(page.context(), publishableKey, stripe);
  const shopSaw = [];
  page.on("request", (r) => {
    if (r.url().startsWith(node.base)) shopSaw.push({ method: r.method(), url: r.url(), body: r.postData() ?? "" });
  });
  const [product] = await shop.inStockProducts(1);
  await shop.registerAndLogin(page, email);
  await shop.addFromSearch(page, product);
  await page.getByRole("link", { name: "Cart (1)" }).click();
  const card = page.frameLocator('iframe[title="Secure card payment input frame"]');
  await card.getByLabel("Card number").waitFor();
  return { page, card, product, stripeSaw, shopSaw };
}

async function typeCard(card, number, expiry = "12 / 34", cvc = "123") {
  await card.getByLabel("Card number").fill(number);
  await card.getByLabel("Expiration date MM / YY").fill(expiry);
  await card.getByLabel("CVC").fill(cvc);
}

const placed = (shopSaw) => shopSaw.filter((r) => r.method === "POST" && r.url.endsWith("/api/orders/place"));

test("a shopper pays in Stripe's card form and sees Confirmed; the card number never reaches the shop", async () => {
  const { page, card, stripeSaw, shopSaw } = await atCheckout("card@ui-e2e.test");
  await page.getByText("Card details go straight to Stripe").waitFor();
  assert.equal(await page.getByLabel(/Visa \(succeeds\)/).count(), 0, "no test cards beside the card form");
  await typeCard(card, "4242 4242 4242 4242");
  await screenshot(page, "cart-card-form");
  assert.deepEqual(await accessibilityViolations(page, { iframes: false }), [], "cart page with the card form");

  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  await page.locator(".order-status").filter({ hasText: "Confirmed" }).waitFor();

  // Stripe.js and its frame came from js.stripe.com; the card went to
  // api.stripe.com with the shop's publishable key.
  assert.deepEqual(stripeSaw.scripts, ["/v3/", "/v3/elements-inner-card.html", "/v3/elements-inner-card.js"]);
  const made = stripeSaw.apiCalls.filter((c) => c.path === "/v1/payment_methods");
  assert.equal(made.length, 1);
  assert.equal(made[0].params.key, publishableKey);
  assert.equal(made[0].params["card[number]"], "4242424242424242");
  // The shop got the PaymentMethod's id, and never the number.
  assert.deepEqual(placed(shopSaw).map((r) => JSON.parse(r.body)), [{ paymentMethodId: "pm_card_visa" }]);
  for (const r of shopSaw) assert.ok(!/4242\s?4242\s?4242\s?4242/.test(r.url + r.body), `${r.method} ${r.url}`);
  await page.context().close();
});

test("Stripe refuses an incomplete card in the form; a declined card cancels the order and says why", async () => {
  const { page, card, product, shopSaw } = await atCheckout("card-declined@ui-e2e.test", { width: 390, height: 844 });
  await typeCard(card, "4242 4242");
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.getByRole("alert").filter({ hasText: "Your card number is incomplete." }).waitFor();
  assert.equal(placed(shopSaw).length, 0, "no order is asked for with an incomplete card");

  // As the shopper types, Stripe's element says what is wrong.
  await typeCard(card, "4242 4242 4242 4241");
  await page.getByRole("alert").filter({ hasText: "Your card number is invalid." }).waitFor();

  await typeCard(card, "4000 0000 0000 0002");
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  await page.locator(".order-status").filter({ hasText: "Cancelled" }).waitFor();
  assert.match(await page.getByTestId("cancel-reason").innerText(), /because the card was declined/);
  assert.deepEqual(placed(shopSaw).map((r) => JSON.parse(r.body)), [{ paymentMethodId: "pm_card_chargeDeclined" }]);
  await screenshot(page, "order-declined-card-form-phone");
  // The stock that was reserved went back.
  const { body } = await node.api(`/api/products/${product.id}`);
  assert.equal(body.stockQuantity, product.stockQuantity);
  await page.context().close();
});

test("a card that asks for 3-D Secure: the bank's page opens over the order, the holder confirms, the order is Confirmed", async () => {
  const { page, card, stripeSaw, product } = await atCheckout("card-3ds@ui-e2e.test");
  await typeCard(card, "4000 0025 0000 3155");
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const bank = page.frameLocator('iframe[title="3D Secure authentication"]');
  await bank.getByRole("button", { name: "Complete authentication" }).waitFor();
  await page.getByText("Your bank asks you to confirm this payment").waitFor();
  await screenshot(page, "order-3d-secure");
  await bank.getByRole("button", { name: "Complete authentication" }).click();
  await page.locator(".order-status").filter({ hasText: "Confirmed" }).waitFor();
  assert.equal(stripeSaw.authentications.length, 1);
  assert.equal(stripeSaw.authentications[0].outcome, "passed");
  assert.match(stripeSaw.authentications[0].intent, /^pi_[0-9a-f]+$/);
  const steps = await page.getByRole("list", { name: "Status timeline" }).locator(".status").allInnerTexts();
  assert.deepEqual(steps, ["Submitted", "Stock reserved", "Waiting for card authentication", "Payment authorized", "Confirmed"]);
  const { body } = await node.api(`/api/products/${product.id}`);
  assert.equal(body.stockQuantity, product.stockQuantity - 1);
  await page.context().close();
});

test("a failed 3-D Secure ends the order and says why; the stock goes back", async () => {
  const { page, card, product } = await atCheckout("card-3ds-fail@ui-e2e.test");
  await typeCard(card, "4000 0025 0000 3155");
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const bank = page.frameLocator('iframe[title="3D Secure authentication"]');
  await bank.getByRole("button", { name: "Fail authentication" }).click();
  await page.locator(".order-status").filter({ hasText: "Cancelled" }).waitFor();
  assert.match(await page.getByTestId("cancel-reason").innerText(), /authentication \(3-D Secure\) did not pass/);
  await page.waitForFunction(() => !document.querySelector('iframe[title="3D Secure authentication"]'));
  for (let i = 0; i < 50; i++) {
    const { body } = await node.api(`/api/products/${product.id}`);
    if (body.stockQuantity === product.stockQuantity) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const { body } = await node.api(`/api/products/${product.id}`);
  assert.equal(body.stockQuantity, product.stockQuantity);
  await page.context().close();
});

test("with Stripe allowed in, a script from any other origin is still refused", async () => {
  const page = await shop.newPage();
  await routeStripe(page.context(), publishableKey);
  await page.context().route("https://cdn.example.test/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: "window.__foreign = true;" }),
  );
  await page.goto(node.base + "/");
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.src = "https://cdn.example.test/skimmer.js";
    document.head.appendChild(s);
  });
  await shop.expectPolicyViolation(/cdn\.example\.test/);
  await shop.expectReportedToNode("script-src-elem", "https://cdn.example.test/skimmer.js");
  assert.equal(await page.evaluate(() => window.__foreign ?? false), false);
  await page.context().close();
});
