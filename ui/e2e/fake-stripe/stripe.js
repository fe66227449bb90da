// A stand-in for Stripe.js v3 in the browser tests (the real one is served by
// js.stripe.com, which a closed network cannot reach). It keeps the shape
// that matters to the storefront and to its content security policy:
//   - it is a script from https://js.stripe.com;
//   - the card fields live in a frame from https://js.stripe.com, so the
//     card number never enters the shop's page;
//   - elements() calls https://api.stripe.com from the page, and the frame
//     creates the PaymentMethod at https://api.stripe.com with the
//     publishable key, as Stripe.js does;
//   - handleNextAction() shows the bank's 3-D Secure page in a frame from
//     https://hooks.stripe.com.
(() => {
  const stripeOrigin = "https://js.stripe.com";
  const pending = new Map();
  let nextId = 1;
  const cards = [];

  window.addEventListener("message", (event) => {
    if (event.origin !== stripeOrigin || !event.data || typeof event.data !== "object") return;
    const { type, id } = event.data;
    if (type === "result" && pending.has(id)) {
      pending.get(id)(event.data.result);
      pending.delete(id);
    } else if (type === "change") {
      for (const card of cards)
        if (card.frame && card.frame.contentWindow === event.source)
          for (const h of card.handlers.change) h(event.data.change);
    } else if (type === "ready") {
      for (const card of cards)
        if (card.frame && card.frame.contentWindow === event.source) for (const h of card.handlers.ready) h();
    }
  });

  function createCard() {
    const card = {
      frame: null,
      handlers: { change: [], ready: [] },
      mount(target) {
        const frame = document.createElement("iframe");
        frame.src = `${stripeOrigin}/v3/elements-inner-card.html`;
        frame.title = "Secure card payment input frame";
        frame.setAttribute("frameborder", "0");
        frame.style.width = "100%";
        frame.style.height = "2.4rem";
        frame.style.border = "0";
        target.appendChild(frame);
        card.frame = frame;
      },
      destroy() {
        card.frame?.remove();
        card.frame = null;
      },
      on(event, handler) {
        (card.handlers[event] ??= []).push(handler);
      },
    };
    cards.push(card);
    return card;
  }

  window.Stripe = (publishableKey) => {
    if (!/^pk_(test|live)_\w+$/.test(publishableKey)) throw new Error("Invalid API Key provided");
    return {
      elements() {
        // As Stripe.js: the page itself talks to the API (form-encoded, the
        // key in the body, so no preflight).
        void fetch("https://api.stripe.com/v1/elements/sessions", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ key: publishableKey }),
        });
        return { create: (type) => (type === "card" ? createCard() : null) };
      },
      handleNextAction({ clientSecret }) {
        // As Stripe.js: the bank's 3-D Secure page in a frame of
        // hooks.stripe.com over the shop's page, until the holder answers.
        return new Promise((resolve) => {
          const overlay = document.createElement("div");
          overlay.style.position = "fixed";
          overlay.style.inset = "0";
          overlay.style.background = "rgba(0, 0, 0, 0.4)";
          overlay.style.display = "grid";
          overlay.style.placeItems = "center";
          const frame = document.createElement("iframe");
          frame.src = `https://hooks.stripe.com/3d_secure_2/hosted?client_secret=${encodeURIComponent(clientSecret)}`;
          frame.title = "3D Secure authentication";
          frame.style.width = "360px";
          frame.style.height = "240px";
          frame.style.border = "0";
          frame.style.background = "#fff";
          overlay.appendChild(frame);
          document.body.appendChild(overlay);
          const intent = clientSecret.split("_secret_")[0];
          const onMessage = (event) => {
            if (event.origin !== "https://hooks.stripe.com" || event.source !== frame.contentWindow) return;
            window.removeEventListener("message", onMessage);
            overlay.remove();
            resolve(
              event.data?.passed
                ? { paymentIntent: { id: intent, status: "succeeded" } }
                : {
                    error: {
                      type: "invalid_request_error",
                      code: "payment_intent_authentication_failure",
                      message:
                        "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
                    },
                  },
            );
          };
          window.addEventListener("message", onMessage);
        });
      },
      createPaymentMethod({ type, card }) {
        return new Promise((resolve) => {
          if (type !== "card" || !card?.frame?.contentWindow)
            return resolve({ error: { type: "invalid_request_error", message: "No card element is mounted." } });
          const id = nextId++;
          pending.set(id, resolve);
          card.frame.contentWindow.postMessage({ type: "create", id, key: publishableKey }, stripeOrigin);
        });
      },
    };
  };
})();
