// The stand-in bank page (see stripe.js): the holder's answer goes to
// Stripe (here: the fake's test hook, through the test's route), then to
// the page that opened it.
(() => {
  const secret = new URLSearchParams(location.search).get("client_secret") ?? "";
  const answer = async (passed) => {
    const res = await fetch("/3d_secure_2/authenticate", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_secret: secret, outcome: passed ? "passed" : "failed" }),
    });
    parent.postMessage({ type: "3ds-result", passed: passed && res.ok }, "*");
  };
  document.getElementById("pass").addEventListener("click", () => void answer(true));
  document.getElementById("fail").addEventListener("click", () => void answer(false));
})();
