// The stand-in card frame (see stripe.js): checks what was typed as Stripe's
// card element does, and creates the PaymentMethod itself.
(() => {
  const field = (id) => document.getElementById(id);
  const digits = (s) => s.replace(/\D/g, "");
  const luhn = (n) => {
    let sum = 0;
    for (let i = 0; i < n.length; i++) {
      let d = Number(n[n.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  };

  /** Stripe's messages for what is wrong, or "" when the card is complete. */
  function problem() {
    const number = digits(field("number").value);
    const expiry = digits(field("expiry").value);
    const cvc = digits(field("cvc").value);
    if (number.length < 16) return { code: "incomplete_number", message: "Your card number is incomplete." };
    if (!luhn(number)) return { code: "invalid_number", message: "Your card number is invalid." };
    if (expiry.length !== 4) return { code: "incomplete_expiry", message: "Your card's expiration date is incomplete." };
    const month = Number(expiry.slice(0, 2));
    const year = 2000 + Number(expiry.slice(2));
    const now = new Date();
    if (month < 1 || month > 12) return { code: "invalid_expiry_month", message: "Your card's expiration date is invalid." };
    if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1))
      return { code: "invalid_expiry_year_past", message: "Your card's expiration year is in the past." };
    if (cvc.length < 3) return { code: "incomplete_cvc", message: "Your card's security code is incomplete." };
    return null;
  }

  let parentOrigin = null;
  const tell = (message) => parent.postMessage(message, parentOrigin ?? "*");
  for (const id of ["number", "expiry", "cvc"])
    field(id).addEventListener("input", () => {
      const p = problem();
      // As Stripe's element: an incomplete field is not an error while typing.
      const shown = p && !p.code.startsWith("incomplete") ? { message: p.message } : undefined;
      tell({ type: "change", change: { complete: !p, empty: !field("number").value, error: shown } });
    });

  window.addEventListener("message", async (event) => {
    if (event.source !== parent || event.data?.type !== "create") return;
    parentOrigin = event.origin;
    const reply = (result) => event.source.postMessage({ type: "result", id: event.data.id, result }, event.origin);
    const p = problem();
    if (p) return reply({ error: { type: "validation_error", ...p } });
    const expiry = digits(field("expiry").value);
    const body = new URLSearchParams({
      key: event.data.key,
      type: "card",
      "card[number]": digits(field("number").value),
      "card[exp_month]": expiry.slice(0, 2),
      "card[exp_year]": expiry.slice(2),
      "card[cvc]": digits(field("cvc").value),
    });
    try {
      const res = await fetch("https://api.stripe.com/v1/payment_methods", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
      const answer = await res.json();
      reply(res.ok ? { paymentMethod: answer } : { error: answer.error });
    } catch {
      reply({ error: { type: "api_connection_error", message: "We could not reach Stripe. Try again." } });
    }
  });
  tell({ type: "ready" });
})();
