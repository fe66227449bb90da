// The storefront in a real browser against the real binary: a shopper buys
// with a good card and sees Confirmed arrive live, a declined card shows its
// reason, an admin's stock change shows on the product page, and the
// operations page charts live figures for admins only.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { accessibilityViolations, launch, screenshot } from "./browser.mjs";
import { admin, startNode } from "./node.mjs";
import { Shop } from "./shop.mjs";

let node;
let browser;
let shop;

before(async () => {
  // Payment latency keeps the order visibly in flight before Confirmed, so the
  // test sees the status change arrive over the socket, not in the first load.
  node = await startNode(["--payment-latency-ms", "1500"]);
  browser = await launch();
  shop = new Shop(browser, node);
});

after(async () => {
  await browser?.close();
  const code = await node?.stop();
  assert.equal(code, 0, "node exits cleanly on SIGTERM");
});

afterEach(() => shop.checkPolicy());

test("a shopper registers, searches, fills the cart and sees Confirmed arrive live", async () => {
  const [first, second] = await shop.inStockProducts(2);
  const page = await shop.newPage();
  await shop.registerAndLogin(page, "shopper@ui-e2e.test");
  await page.getByText("Live updates on").waitFor();

  await shop.addFromSearch(page, first);
  await shop.addFromSearch(page, second);
  await page.getByRole("link", { name: "Cart (2)" }).waitFor();

  // The cart lives on the server and the session in a cookie: a reload keeps both.
  const reloaded = await page.reload();
  assert.match(reloaded.headers()["content-security-policy"], /script-src 'self'/);
  // A script injected into the page (as a stored XSS would) does not run.
  await page.evaluate(() => {
    const injected = document.createElement("script");
    injected.textContent = "window.injectedRan = true";
    document.body.append(injected);
  });
  assert.equal(await page.evaluate(() => window.injectedRan), undefined);
  await shop.expectPolicyViolation(/inline script/);
  await shop.expectReportedToNode("script-src-elem", "inline");
  await page.getByRole("link", { name: "Cart (2)" }).click();
  await page.getByRole("link", { name: first.name }).waitFor();
  await page.getByRole("link", { name: second.name }).waitFor();
  await page.getByLabel(`Quantity of ${first.name}`).fill("3");
  await page.getByLabel(`Quantity of ${first.name}`).press("Enter");
  const expected = (3 * first.price + second.price).toLocaleString("en-US", { style: "currency", currency: "USD" });
  await page.getByTestId("cart-total").filter({ hasText: expected }).waitFor();
  await screenshot(page, "cart");
  assert.deepEqual(await accessibilityViolations(page), [], "cart page");

  // Another browser, same account: the same cart.
  const other = await shop.newPage();
  await other.goto(node.base + "/login");
  await other.getByLabel("Email").fill("shopper@ui-e2e.test");
  await other.getByLabel("Password").fill("secret-pass");
  await other.getByRole("button", { name: "Log in" }).click();
  await other.getByRole("link", { name: "Cart (4)" }).waitFor();
  await other.context().close();

  await page.getByLabel(/Visa \(succeeds\)/).check();
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  const status = page.locator(".order-status");
  const before = await status.innerText();
  assert.doesNotMatch(before, /Confirmed/, "the order is still in flight when the page opens");
  await status.filter({ hasText: "Confirmed" }).waitFor();
  const timeline = await page.getByRole("list", { name: "Status timeline" }).innerText();
  assert.match(timeline, /Submitted[\s\S]*Stock reserved[\s\S]*Payment authorized[\s\S]*Confirmed/);
  await screenshot(page, "order-confirmed");
  assert.deepEqual(await accessibilityViolations(page), [], "order page");

  // The cart was emptied by the order; stock went down by what was bought.
  await page.getByRole("link", { name: "Cart (0)" }).waitFor();
  const { body } = await node.api(`/api/products/${first.id}`);
  assert.equal(body.stockQuantity, first.stockQuantity - 3);

  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await page.getByRole("link", { name: /Order #\d+/ }).first().waitFor();
  await screenshot(page, "order-history");
  assert.deepEqual(await accessibilityViolations(page), [], "order history");
  await page.context().close();
});

test("a declined card cancels the order and says why, on a phone-sized screen", async () => {
  const [product] = await shop.inStockProducts(2);
  const page = await shop.newPage({ width: 390, height: 844 });
  await shop.registerAndLogin(page, "declined@ui-e2e.test");
  await shop.addFromSearch(page, product);
  await page.getByRole("link", { name: "Cart (1)" }).click();
  await page.getByLabel(/Declined card/).check();
  await page.getByRole("button", { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/\d+$/);
  await page.locator(".order-status").filter({ hasText: "Cancelled" }).waitFor();
  assert.match(await page.getByTestId("cancel-reason").innerText(), /because the card was declined/);
  await screenshot(page, "order-declined-phone");
  assert.deepEqual(await accessibilityViolations(page), [], "order page on a phone");
  // The stock that was reserved went back.
  const { body } = await node.api(`/api/products/${product.id}`);
  assert.equal(body.stockQuantity, product.stockQuantity);
  await page.context().close();
});

test("an admin sets a product's stock and the product page shows it", async () => {
  const [, product] = await shop.inStockProducts(2);
  const page = await shop.newPage();
  await shop.logIn(page, admin.email, admin.password);
  await page.getByRole("link", { name: "Admin" }).click();
  await page.getByLabel("Find product").fill(product.name);
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("button", { name: `Edit ${product.name}` }).click();
  const form = page.getByRole("form", { name: `Edit ${product.name}` });
  await form.getByLabel("Stock on hand").fill("3");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByText("Saved.").waitFor();
  await screenshot(page, "admin-stock");
  assert.deepEqual(await accessibilityViolations(page), [], "admin page");

  await page.goto(`${node.base}/products/${product.id}`);
  await page.getByTestId("stock").filter({ hasText: "Only 3 left" }).waitFor();
  await screenshot(page, "product-only-3-left");

  // A visitor (no login) sees the same stock and is asked to log in to buy.
  const visitor = await shop.newPage();
  await visitor.goto(`${node.base}/products/${product.id}`);
  await visitor.getByTestId("stock").filter({ hasText: "Only 3 left" }).waitFor();
  await visitor.getByRole("link", { name: "Log in" }).first().waitFor();
  await visitor.goto(`${node.base}/?search=${encodeURIComponent(product.name)}`);
  await visitor.getByRole("link", { name: product.name }).first().waitFor();
  assert.deepEqual(await accessibilityViolations(visitor), [], "catalog");
  await visitor.context().close();
  await page.context().close();
});

test("the operations page charts orders and requests for an admin, and is closed to customers", async () => {
  const [product] = await shop.inStockProducts(2);
  const page = await shop.newPage();
  await shop.logIn(page, admin.email, admin.password);
  await page.getByRole("link", { name: "Operations" }).click();
  await page.getByRole("heading", { name: "Operations" }).waitFor();

  // A customer buys through the API while the page polls.
  const email = "ops-load@ui-e2e.test";
  await node.api("/api/auth/register", { method: "POST", body: JSON.stringify({ email, password: "secret-pass" }) });
  const { body: session } = await node.api("/api/auth/login", { method: "POST", body: JSON.stringify({ email, password: "secret-pass" }) });
  const auth = { Authorization: `Bearer ${session.token}` };
  for (let i = 0; i < 4; i++) {
    const added = await node.api("/api/cart/add", { method: "POST", headers: auth, body: JSON.stringify({ productId: product.id, quantity: 1 }) });
    assert.equal(added.status, 200);
    const placed = await node.api("/api/orders/place", { method: "POST", headers: auth, body: JSON.stringify({ paymentMethodId: "pm_card_visa" }) });
    assert.equal(placed.status, 200);
  }

  // Charts with figures: orders confirmed (after the 1.5 s payment), requests, p99.
  const orders = page.locator('figure.chart[data-title="Orders"]');
  await page.locator('figure.chart[data-title="Orders"][data-nonempty=yes]').waitFor({ timeout: 30_000 });
  for (const title of ["Requests", "p99 latency by route"])
    await page.locator(`figure.chart[data-title="${title}"][data-nonempty=yes]`).waitFor();
  assert.match(await orders.locator("figcaption").innerText(), /Confirmed\/s: \d/);
  // A line, not a dot: at least two intervals charted.
  await page.waitForFunction(() => Number(document.querySelector('figure.chart[data-title="Orders"]')?.dataset.points) >= 2);
  assert.equal(await page.locator("figure.chart canvas").count() >= 4, true, "uPlot drew on canvases");
  const row = page.getByRole("table", { name: "Nodes" }).getByRole("row").nth(1);
  assert.match(await row.innerText(), /up\s+closed\s+12/);
  await screenshot(page, "operations");
  assert.deepEqual(await accessibilityViolations(page), [], "operations page");
  await page.context().close();

  // A customer sees neither the page nor its figures.
  const customer = await shop.newPage();
  await shop.logIn(customer, email, "secret-pass");
  assert.equal(await customer.getByRole("link", { name: "Operations" }).count(), 0);
  await customer.goto(node.base + "/admin/operations");
  await customer.getByText("This page is for admin accounts.").waitFor();
  assert.equal((await node.api("/api/admin/stats", { headers: auth })).status, 403);
  assert.equal((await node.api("/api/admin/stats")).status, 401);
  await customer.context().close();
});
