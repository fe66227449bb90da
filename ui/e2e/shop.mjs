// What every browser test does with the storefront: pages that report what
// the content security policy refused, logging in, registering, filling the
// cart from a search.
import assert from "node:assert/strict";

export class Shop {
  constructor(browser, node) {
    this.browser = browser;
    this.node = node;
    /** What the browser refused under the page's content security policy:
     * the storefront must need nothing it forbids. */
    this.policyViolations = [];
  }

  /** For afterEach: no refusal was left unexpected. */
  checkPolicy() {
    const seen = this.policyViolations;
    this.policyViolations = [];
    assert.deepEqual(seen, [], "the storefront ran into its own content security policy");
  }

  async newPage(viewport = { width: 1280, height: 900 }) {
    const context = await this.browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on("console", (message) => {
      if (/Content Security Policy/.test(message.text())) this.policyViolations.push(message.text());
    });
    return page;
  }

  /** Waits for the browser's report of one refusal matching `pattern`, and
   * takes it out of what checkPolicy checks. */
  async expectPolicyViolation(pattern) {
    for (let i = 0; i < 50 && !this.policyViolations.some((v) => pattern.test(v)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const index = this.policyViolations.findIndex((v) => pattern.test(v));
    assert.notEqual(index, -1, `a refusal matching ${pattern}: ${this.policyViolations}`);
    this.policyViolations.splice(index, 1);
  }

  /** Waits for the node to log the browser's report of a refusal (the
   * policy's report-uri): the operator sees it, not only the console. */
  async expectReportedToNode(directive, blocked) {
    const reported = () =>
      this.node
        .logEntries()
        .some((e) => e.msg === "content security policy violation" && e.directive === directive && e.blocked === blocked);
    for (let i = 0; i < 50 && !reported(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(reported(), `the node logged a ${directive} refusal of ${blocked}`);
  }

  /** `count` demo products with at least 20 in stock and distinct names. */
  async inStockProducts(count) {
    const { body } = await this.node.api("/api/products?sortBy=stockQuantity&sortOrder=desc&pageSize=10");
    const picked = body.filter((p) => p.stockQuantity >= 20).slice(0, count);
    assert.equal(picked.length, count);
    return picked;
  }

  async logIn(page, email, password) {
    await page.goto(this.node.base + "/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("button", { name: /Log out/ }).waitFor();
  }

  async registerAndLogin(page, email, password = "secret-pass") {
    await page.goto(this.node.base + "/register");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByLabel("Confirm password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Your account is ready").waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("button", { name: /Log out/ }).waitFor();
  }

  async addFromSearch(page, product) {
    await page.getByRole("link", { name: "Shop" }).click();
    await page.getByLabel("Search").fill(product.name);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByRole("link", { name: product.name, exact: true }).waitFor();
    await page.getByRole("button", { name: `Add ${product.name} to cart` }).click();
    await page.getByRole("status").filter({ hasText: "Added" }).first().waitFor();
  }
}
