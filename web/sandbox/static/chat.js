// The sandbox chat page: plays one customer (or the merchant) on a LINE or Messenger
// account. Everything the person does goes through the control API, which sends a
// real signed webhook to the service; the shop's answers are polled every second.
(function () {
  "use strict";

  const R = window.SandboxRender;
  const base = document.body.dataset.base;
  const $ = (id) => document.getElementById(id);
  const DEFAULT_NAMES = { customer: "王小明", merchant: "店長" };
  const state = {
    accounts: [], persona: "customer", names: { ...DEFAULT_NAMES },
    channel: "line", account: null, userId: null, next: 0, callsNext: 0,
    timer: null, polling: false,
  };

  async function api(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", headers: {} };
    if (opts.json !== undefined) {
      init.method = opts.method || "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.json);
    } else if (opts.form) {
      init.method = "POST";
      init.body = opts.form;
    }
    const response = await fetch(base + "api/" + path, init);
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error((data && data.error) || response.statusText);
    return data;
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function fillAccounts() {
    const select = $("account");
    select.replaceChildren();
    for (const account of state.accounts.filter((a) => a.channel === state.channel)) {
      const label = account.channel === "line"
        ? account.account + "（" + account.basic_id + "）"
        : (account.name || "粉絲專頁") + "（" + account.account + "）";
      const option = R.el("option", null, label);
      option.value = account.account;
      select.append(option);
    }
    if (!select.options.length) setStatus("這個平台沒有可用的帳號", true);
  }

  async function loadAccounts() {
    state.accounts = (await api("accounts")).accounts;
    fillAccounts();
  }

  function threadPath(action) {
    return ["conversations", state.channel, encodeURIComponent(state.account),
      encodeURIComponent(state.userId), action].join("/");
  }

  async function enter() {
    state.channel = $("channel").value;
    state.account = $("account").value;
    const name = $("name").value.trim() || DEFAULT_NAMES[state.persona];
    state.names[state.persona] = name;
    if (!state.account) return setStatus("請先選擇帳號", true);
    const user = await api("users", {
      json: { channel: state.channel, account: state.account, display_name: name },
    });
    state.userId = user.user_id;
    state.next = 0;
    $("messages").replaceChildren();
    $("quick-replies").replaceChildren();
    $("phone").dataset.channel = state.channel;
    const who = state.persona === "merchant" ? "店家" : "顧客";
    $("title").textContent = name + "（" + who + "）· " + state.account;
    setStatus("已進入對話：" + user.user_id);
    poll();
    $("text").focus();
  }

  function timeLabel(iso) {
    return new Date(iso).toLocaleTimeString("zh-TW", {
      timeZone: "Asia/Taipei", hour: "2-digit", minute: "2-digit",
    });
  }

  const ctx = {
    mediaUrl: (id) => base + "media/" + encodeURIComponent(id),
    onAction: (action) => perform(action).catch((e) => setStatus(e.message, true)),
  };

  function show(entry) {
    const item = R.el("li", "entry " + entry.direction);
    item.dataset.index = entry.index;
    if (entry.direction === "in") {
      item.append(R.inbound(entry.message, ctx));
    } else {
      const render = state.channel === "line" ? R.line : R.messenger;
      item.append(render(entry.message, ctx));
    }
    item.append(R.el("time", "time", timeLabel(entry.time)));
    $("messages").append(item);
    item.scrollIntoView({ block: "end" });
    showQuickReplies(entry);
  }

  function showQuickReplies(entry) {
    const bar = $("quick-replies");
    bar.replaceChildren();
    if (entry.direction !== "out") return;
    for (const [label, action] of R.quickReplies(state.channel, entry.message)) {
      bar.append(R.button(label, action, ctx, "quick"));
    }
  }

  async function poll() {
    if (state.polling || !state.userId) return;
    state.polling = true;
    clearTimeout(state.timer);
    const userId = state.userId;
    try {
      const data = await api(threadPath("messages") + "?since=" + state.next);
      if (userId === state.userId) {
        for (const entry of data.messages) {
          if (entry.index >= state.next) show(entry);
          state.next = Math.max(state.next, entry.index + 1);
        }
      }
      await pollCalls();
    } catch (e) {
      setStatus("更新失敗：" + e.message, true);
    } finally {
      state.polling = false;
      state.timer = setTimeout(poll, 1000);
    }
  }

  async function pollCalls() {
    const data = await api("calls?since=" + state.callsNext);
    const list = $("calls");
    for (const call of data.calls) {
      const ok = call.status < 400;
      const text = call.channel + " " + call.endpoint + " → " + call.status
        + (call.recipient ? "（" + call.recipient.slice(0, 10) + "…）" : "");
      list.prepend(R.el("li", ok ? "ok" : "failed", text));
      state.callsNext = call.seq + 1;
    }
    while (list.children.length > 50) list.lastChild.remove();
  }

  function report(result) {
    const status = result.webhook_status;
    if (status === null) setStatus("服務沒有回應 webhook（連不上或逾時）", true);
    else if (status >= 300) setStatus("服務拒絕了 webhook：HTTP " + status, true);
    else setStatus("已送出（webhook " + status + "）");
  }

  async function act(action, payload) {
    if (!state.userId) throw new Error("請先按「進入對話」");
    report(await api(threadPath(action), { json: payload || {} }));
    poll();
  }

  async function perform(action) {
    if (!action) return;
    if (action.kind === "open") {
      if (/^(https?:|tel:)/i.test(action.url || "")) window.open(action.url, "_blank", "noopener");
      return;
    }
    if (action.kind === "image") return $("image").click();
    if (action.kind === "say") return act("say", { text: action.text });
    return act("tap", {
      data: action.data, label: action.label || "",
      display_text: action.displayText || null, quick_reply: action.kind === "quick",
    });
  }

  async function sendImage(file) {
    if (!state.userId) throw new Error("請先按「進入對話」");
    const form = new FormData();
    form.append("image", file);
    report(await api(threadPath("image"), { form }));
    poll();
  }

  function choosePersona(persona) {
    state.names[state.persona] = $("name").value.trim() || state.names[state.persona];
    state.persona = persona;
    for (const b of document.querySelectorAll("[data-persona]")) {
      b.setAttribute("aria-pressed", String(b.dataset.persona === persona));
    }
    $("name").value = state.names[persona];
    if (state.account) enter().catch((e) => setStatus(e.message, true));
  }

  function wire() {
    const guard = (fn) => (event) => {
      if (event) event.preventDefault();
      Promise.resolve(fn(event)).catch((e) => setStatus(e.message, true));
    };
    $("channel").addEventListener("change", () => { state.channel = $("channel").value; fillAccounts(); });
    $("enter").addEventListener("click", guard(enter));
    $("composer").addEventListener("submit", guard(async () => {
      const text = $("text").value;
      if (!text.trim()) return;
      $("text").value = "";
      await act("say", { text });
    }));
    $("pick-image").addEventListener("click", () => $("image").click());
    $("image").addEventListener("change", guard(async () => {
      const file = $("image").files[0];
      $("image").value = "";
      if (file) await sendImage(file);
    }));
    $("follow").addEventListener("click", guard(() => act("follow")));
    $("unfollow").addEventListener("click", guard(() => act("unfollow")));
    $("referral").addEventListener("click", guard(() => act("referral", { ref: $("ref").value })));
    for (const b of document.querySelectorAll("[data-persona]")) {
      b.addEventListener("click", () => choosePersona(b.dataset.persona));
    }
  }

  $("name").value = DEFAULT_NAMES.customer;
  wire();
  loadAccounts().catch((e) => setStatus("讀取帳號失敗：" + e.message, true));
})();
