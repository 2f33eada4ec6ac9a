/*
 * chatcart storefront widget: offers to link this browser to the shop's LINE or
 * Messenger chat with a six-digit code.
 *
 *   <script src="https://chat.shop.example/widget/binding.js" data-channel="line" async></script>
 *
 * Add-to-cart is counted from clicks on [data-chatcart-add-to-cart] (or the selector in
 * data-add-to-cart), from a "chatcart:add-to-cart" event on document, or from
 * window.ChatcartBinding.addToCart() (ChatcartBinding.ready resolves once the widget
 * is set up). A shop that knows its member passes a signed token in data-member-token.
 * Counters live in localStorage per browser day; the visitor id is a first-party
 * cookie of the shop's site.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.ChatcartBinding) return;

  var base = new URL(script.src, location.href).origin;
  var channel = script.getAttribute("data-channel") === "messenger" ? "messenger" : "line";
  var memberToken = script.getAttribute("data-member-token") || null;
  var selector = script.getAttribute("data-add-to-cart") || "[data-chatcart-add-to-cart]";
  var storeKey = "chatcart.binding." + channel;
  var POLL_MS = 2000;
  var settings = null;
  var memory = null;
  var ui = null;
  var poll = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function visitorId() {
    var found = document.cookie.match(/(?:^|;\s*)chatcart_vid=([A-Za-z0-9_-]{16,64})/);
    if (found) return found[1];
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var id = Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    document.cookie = "chatcart_vid=" + id + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
    return id;
  }

  // Counters of the current day; the binding and a pending code outlive the day.
  function load() {
    var state = memory;
    try { state = JSON.parse(window.localStorage.getItem(storeKey)) || state; } catch (e) { /* private mode */ }
    state = state || {};
    if (state.day !== today()) {
      state = { day: today(), adds: 0, shown: 0, pressed: false, bound: state.bound || null,
                pending: state.pending || null };
    }
    return state;
  }
  function save(state) {
    memory = state;
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* memory only */ }
  }
  function update(change) {
    var state = load();
    change(state);
    save(state);
  }

  function api(method, path, body) {
    var options = { method: method, headers: {} };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.httpStatus = response.status;
        return data;
      });
    });
  }

  // --- the popup, in a shadow root so the shop's CSS and ours never meet ---------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function build() {
    var host = el("div");
    host.id = "chatcart-binding";
    host.setAttribute("data-channel", channel);
    var root = host.attachShadow({ mode: "open" });
    var css = el("link");
    css.rel = "stylesheet";
    css.href = base + "/widget/assets/binding.css";
    var panel = el("section", "panel " + channel);
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "cc-title");
    panel.hidden = true;
    var close = button("×", "close", hide);
    close.setAttribute("aria-label", settings.texts.close);
    var body = el("div", "body");
    [close, body].forEach(function (node) { panel.appendChild(node); });
    [css, panel].forEach(function (node) { root.appendChild(node); });
    document.body.appendChild(host);
    return { panel: panel, body: body };
  }

  function render(nodes) {
    if (!ui) ui = build();
    ui.body.textContent = "";
    nodes.forEach(function (node) { ui.body.appendChild(node); });
    ui.panel.hidden = false;
  }
  function hide() { if (ui) ui.panel.hidden = true; }
  function isOpen() { return !!ui && !ui.panel.hidden; }

  function title(text) {
    var h = el("h2", "title", text);
    h.id = "cc-title";
    return h;
  }
  function button(text, className, onClick) {
    var b = el("button", className, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function showOffer() {
    render([title(settings.title), el("p", "description", settings.description),
            button(settings.button_text, "button primary", press)]);
  }

  function showCode(issued) {
    var t = settings.texts;
    var nodes = [title(settings.title), el("p", "hint", t["scan_" + channel])];
    if (issued.qr_svg_url) {
      var qr = el("img", "qr");
      qr.src = new URL(issued.qr_svg_url, base).href;
      qr.alt = "QR code";
      nodes.push(qr);
    }
    var code = el("p", "code", issued.code);
    code.setAttribute("aria-label", t.code_label + " " + issued.code);
    nodes.push(code);
    if (issued.deep_link && /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent)) {
      var open = el("a", "button primary deep-link", t["open_" + channel]);
      open.href = issued.deep_link;
      nodes.push(open);
    }
    nodes.push(el("p", "waiting", t.waiting));
    render(nodes);
  }

  function showBound(bound) {
    var notYou = el("a", "not-you", settings.texts.not_you);
    notYou.href = "#";
    notYou.addEventListener("click", function (event) { event.preventDefault(); undo(bound.id); });
    render([el("p", "bound", settings.texts.bound.replace("{name}", bound.name)), notYou]);
  }

  function showConfirm(bound) {
    var t = settings.texts;
    render([title(t.confirm_question), el("p", "who", bound.name), el("p", "hint", t.confirm_hint),
            button(t.confirm_yes, "button primary", function () { confirmMember(bound); }),
            button(t.confirm_no, "button secondary", function () { undo(bound.id); })]);
  }

  function showMessage(text, retry) {
    var nodes = [el("p", "message", text)];
    if (retry) nodes.push(button(settings.texts.retry, "button primary", press));
    render(nodes);
  }

  // --- binding round trip ---------------------------------------------------------

  function press() {
    update(function (state) { state.pressed = true; });
    var body = { visitor_id: visitorId(), channel: channel };
    if (memberToken) body.member_token = memberToken;
    api("POST", "/api/binding-codes", body).then(function (issued) {
      if (issued.httpStatus !== 201 || !issued.id) { showMessage(settings.texts.failed); return; }
      update(function (state) { state.pending = { id: issued.id, expires_at: issued.expires_at }; });
      showCode(issued);
      watch(issued.id, issued.expires_at, false);
    }, function () { showMessage(settings.texts.failed); });
  }

  function boundInfo(id, data) {
    var bound = data.bound || {};
    var member = data.member || bound.member || {};
    return {
      id: id,
      name: data.display_name || bound.display_name || bound.name || "",
      unconfirmed: data.needs_confirmation === true || member.confirmed === false,
    };
  }

  // Polls until the code is used or gone; ``quiet`` (a code pressed on an earlier
  // page) opens the popup only to say how it ended.
  function watch(id, expiresAt, quiet) {
    if (poll) window.clearTimeout(poll);
    var deadline = (Date.parse(expiresAt) || Date.now() + 600000) + POLL_MS;
    function tick() {
      api("GET", "/api/binding-codes/" + encodeURIComponent(id)).then(function (data) {
        if (data.status === "bound") {
          var bound = boundInfo(id, data);
          update(function (state) { state.pending = null; state.bound = bound; });
          if (bound.unconfirmed) { showConfirm(bound); } else { showBound(bound); }
        } else if (data.status === "pending" && Date.now() < deadline) {
          poll = window.setTimeout(tick, POLL_MS);
        } else {
          update(function (state) { state.pending = null; });
          if (!quiet) showMessage(settings.texts.expired, true);
        }
      }, function () { poll = window.setTimeout(tick, POLL_MS * 2); });
    }
    poll = window.setTimeout(tick, quiet ? 0 : POLL_MS);
  }

  function confirmMember(bound) {
    api("POST", "/api/binding-codes/" + encodeURIComponent(bound.id) + "/confirm",
        { visitor_id: visitorId() }).then(function (data) {
      if (data.httpStatus >= 400) { showMessage(settings.texts.failed); return; }
      bound.unconfirmed = false;
      update(function (state) { state.bound = bound; });
      showBound(bound);
    }, function () { showMessage(settings.texts.failed); });
  }

  function undo(id) {
    api("DELETE", "/api/binding-codes/" + encodeURIComponent(id) + "?visitor_id=" +
        encodeURIComponent(visitorId())).then(function (data) {
      if (data.httpStatus >= 400 && data.httpStatus !== 404) {
        showMessage(settings.texts.failed);
        return;
      }
      update(function (state) { state.bound = null; });
      render([el("p", "message", settings.texts.unbound),
              button(settings.button_text, "button primary", press)]);
    }, function () { showMessage(settings.texts.failed); });
  }

  // --- counting ---------------------------------------------------------------------

  function shouldOffer(state) {
    if (!settings || !settings.enabled || isOpen()) return false;
    if (state.pressed || state.shown >= settings.max_per_day) return false;
    // A LINE friend can be messaged any time; Messenger only within 24 hours of
    // the shopper's last message, so binding there again is still worth offering.
    if (channel === "line" && state.bound) return false;
    return state.adds > 0 && state.adds % settings.show_after_adds === 0;
  }

  function addToCart() {
    var offer = false;
    update(function (state) {
      state.adds += 1;
      offer = shouldOffer(state);
      if (offer) state.shown += 1;
    });
    if (offer) showOffer();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest(selector)) addToCart();
  });
  document.addEventListener("chatcart:add-to-cart", addToCart);

  // Resolves to true once the settings are in (false if they could not be loaded:
  // the widget then stays silent rather than showing a half-configured popup).
  var ready = fetch(base + "/widget/settings?channel=" + channel).then(function (response) {
    return response.ok ? response.json() : null;
  }).then(function (loaded) {
    if (!loaded) return false;
    settings = loaded;
    var pending = load().pending;
    if (pending) watch(pending.id, pending.expires_at, true);
    return true;
  }).catch(function () { return false; });

  window.ChatcartBinding = {
    addToCart: addToCart,
    open: function () { if (settings) showOffer(); },
    visitorId: visitorId,
    ready: ready,
  };
})();
