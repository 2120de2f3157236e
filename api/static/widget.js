// Market Assistant chat widget: one <script src="/widget.js"></script> adds a chat bubble.
// A web component, no build step, no external resources. It talks to the same origin:
// POST /v1/chat (server-sent events), GET /v1/me, POST /v1/approvals/{id}/approve|reject,
// GET /v1/conversations/{id}/events (runs resumed by a decision taken elsewhere),
// GET/PUT /v1/profile (the risk-profile questionnaire), GET/PUT /v1/watchlists and
// GET/DELETE /v1/alerts (the watch panel), GET /v1/notifications/stream (alert firings and
// briefings delivered to the widget).
(() => {
  const css = `
  :host { all: initial; font: 14px/1.45 system-ui, sans-serif; color: #1d2330; }
  .bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
    border: 0; background: #1f5eff; color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px #0003; }
  .panel { position: fixed; right: 20px; bottom: 88px; width: min(440px, 94vw); height: min(640px, 80vh);
    background: #fff; border-radius: 12px; box-shadow: 0 8px 30px #0004; display: none; flex-direction: column; overflow: hidden; }
  .panel.open { display: flex; }
  header { background: #1f5eff; color: #fff; padding: 10px 14px; font-weight: 600; display: flex; justify-content: space-between; align-items: center; }
  header button { background: #fff3; color: #fff; border: 1px solid #fff8; border-radius: 6px; padding: 2px 8px; font: inherit; font-size: 12px; cursor: pointer; }
  .profile { display: none; padding: 10px 14px; border-bottom: 1px solid #eee; font-size: 13px; background: #f8faff; }
  .profile.open { display: block; }
  .profile label { display: block; margin: 6px 0 2px; }
  .profile select { width: 100%; padding: 4px; font: inherit; }
  .profile .save { margin-top: 8px; padding: 4px 12px; border: 0; border-radius: 6px; background: #1f5eff; color: #fff; cursor: pointer; }
  .watch { display: none; padding: 10px 14px; border-bottom: 1px solid #eee; font-size: 13px; background: #f8fff9; max-height: 45%; overflow-y: auto; }
  .watch.open { display: block; }
  .watch h4 { margin: 8px 0 4px; font-size: 13px; }
  .watch .sym { display: inline-block; margin: 2px 4px 2px 0; padding: 1px 6px; border: 1px solid #cde; border-radius: 10px; background: #fff; }
  .watch .sym button, .watch .alert button { border: 0; background: none; color: #a00; cursor: pointer; padding: 0 2px; }
  .watch .add { display: flex; gap: 4px; margin-top: 4px; }
  .watch .add input { padding: 3px 6px; }
  .watch .add button { padding: 3px 10px; border: 0; border-radius: 6px; background: #1f5eff; color: #fff; cursor: pointer; }
  .watch .alert { margin: 2px 0; }
  .note { background: #eefbf1; border: 1px solid #b7e4c3; }
  .note b { display: block; }
  .bubble .badge { position: absolute; top: -4px; right: -4px; min-width: 18px; height: 18px; border-radius: 9px; background: #d93025; color: #fff; font-size: 11px; line-height: 18px; }
  .log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px; }
  .msg { padding: 8px 10px; border-radius: 8px; white-space: pre-wrap; word-wrap: break-word; }
  .user { background: #e8eeff; align-self: flex-end; max-width: 85%; }
  .assistant { background: #f4f5f7; }
  details.step { font-size: 12px; color: #555; background: #fafafa; border: 1px solid #eee; border-radius: 6px; padding: 4px 8px; }
  details.step.failed { color: #a00; border-color: #f3c0c0; background: #fff6f6; }
  .cites { font-size: 12px; margin-top: 6px; border-top: 1px solid #ddd; padding-top: 4px; }
  .card { border: 1px solid #f0b429; background: #fffbea; border-radius: 8px; padding: 8px 10px; }
  .card button { margin: 6px 6px 0 0; padding: 4px 12px; border-radius: 6px; border: 1px solid #999; cursor: pointer; }
  .card ul.checks { margin: 4px 0; padding-left: 4px; list-style: none; font-size: 12px; }
  .card li.fail { color: #a00; }
  .card .approve { background: #0f9d58; color: #fff; border-color: #0f9d58; }
  .error { color: #b00020; }
  img.chart { max-width: 100%; border: 1px solid #eee; border-radius: 6px; margin-top: 4px; }
  form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #eee; }
  input { flex: 1; padding: 8px; border: 1px solid #ccc; border-radius: 6px; font: inherit; }
  form button { padding: 8px 14px; border: 0; border-radius: 6px; background: #1f5eff; color: #fff; cursor: pointer; }`;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  class MarketAssistant extends HTMLElement {
    constructor() {
      super();
      this.root = this.attachShadow({ mode: "open" });
      this.conversation = null;
      this.userRole = "viewer";
    }

    connectedCallback() {
      const style = el("style");
      style.textContent = css;
      this.bubble = el("button", "bubble", "Ask");
      this.bubble.setAttribute("aria-label", "Open Market Assistant");
      this.panel = el("div", "panel");
      const header = el("header", "", "Market Assistant");
      this.profileButton = el("button", "profile-toggle", "Risk profile");
      this.watchButton = el("button", "watch-toggle", "Watchlists & alerts");
      const buttons = el("span");
      buttons.append(this.watchButton, " ", this.profileButton);
      header.append(buttons);
      this.profileBox = el("div", "profile");
      this.watchBox = el("div", "watch");
      this.panel.append(header, this.profileBox, this.watchBox);
      this.profileButton.addEventListener("click", () => this.toggleProfile());
      this.watchButton.addEventListener("click", () => this.toggleWatch());
      this.log = el("div", "log");
      this.form = el("form");
      this.input = el("input");
      this.input.placeholder = "Ask about prices, indicators, backtests, filings…";
      this.form.append(this.input, el("button", "", "Send"));
      this.panel.append(this.log, this.form);
      this.root.append(style, this.bubble, this.panel);
      this.bubble.addEventListener("click", () => {
        this.panel.classList.toggle("open");
        this.unseen = 0;
        this.badge();
      });
      this.form.addEventListener("submit", (e) => { e.preventDefault(); this.ask(); });
      fetch("/v1/me", { credentials: "same-origin" }).then((r) => {
        if (r.status === 401) this.signInHint();
        return r.ok ? r.json() : null;
      }).then((me) => {
        if (!me) return;
        this.userRole = me.role;
        this.notifications();
      }).catch(() => {});
    }

    // Alert firings and briefings delivered to the widget: one stream for the session;
    // EventSource reconnects by itself, and what was already shown is skipped by seq.
    notifications() {
      this.lastSeq = 0;
      this.unseen = 0;
      const stream = new EventSource("/v1/notifications/stream?after=0");
      stream.onmessage = (m) => {
        const n = JSON.parse(m.data);
        if (n.seq <= this.lastSeq) return;
        this.lastSeq = n.seq;
        if (n.read) return;
        const note = el("div", "msg assistant note");
        note.append(el("b", "", n.title), el("span", "", n.text));
        this.log.append(note);
        this.log.scrollTop = this.log.scrollHeight;
        if (!this.panel.classList.contains("open")) { this.unseen += 1; this.badge(); }
        fetch("/v1/notifications/read", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ up_to: n.seq }),
        }).catch(() => {});
      };
    }

    badge() {
      let badge = this.bubble.querySelector(".badge");
      if (!this.unseen) { if (badge) badge.remove(); return; }
      if (!badge) { badge = el("span", "badge"); this.bubble.append(badge); }
      badge.textContent = String(this.unseen);
    }

    // Watchlists (add and remove symbols) and alerts (delete); new alerts are asked for in
    // the chat ("alert me when KO closes above 70").
    async toggleWatch() {
      const box = this.watchBox;
      if (box.classList.toggle("open") === false) return;
      await this.drawWatch();
    }

    async drawWatch() {
      const box = this.watchBox;
      const get = (url) => fetch(url, { credentials: "same-origin" }).catch(() => null);
      const [lists, alerts] = await Promise.all([get("/v1/watchlists"), get("/v1/alerts")]);
      if (!lists || lists.status === 401) { box.classList.remove("open"); this.signInHint(); return; }
      const status = el("div", "status");
      const put = async (name, symbols) => {
        const r = await fetch(`/v1/watchlists/${encodeURIComponent(name)}`, {
          method: "PUT", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ symbols }),
        });
        if (!r.ok) { const data = await r.json(); status.textContent = data.error ? data.error.message : "not saved"; return; }
        await this.drawWatch();
      };
      const parts = [el("h4", "", "Watchlists")];
      const all = await lists.json();
      if (!all.length) parts.push(el("div", "", "No watchlists yet: add symbols below."));
      for (const list of all) {
        const row = el("div", "list");
        row.append(el("b", "", list.name + ": "));
        for (const symbol of list.symbols) {
          const chip = el("span", "sym", symbol);
          const x = el("button", "", "×");
          x.title = `Remove ${symbol}`;
          x.addEventListener("click", () => put(list.name, list.symbols.filter((s) => s !== symbol)));
          chip.append(x);
          row.append(chip);
        }
        parts.push(row);
      }
      const add = el("div", "add");
      const name = el("input");
      name.placeholder = "list (default)";
      name.size = 10;
      const symbols = el("input");
      symbols.placeholder = "symbols, e.g. NVDA KO";
      const go = el("button", "", "Add");
      go.addEventListener("click", () => {
        const listName = (name.value.trim() || "default").toLowerCase();
        const current = (all.find((l) => l.name === listName) || { symbols: [] }).symbols;
        const more = symbols.value.split(/[\s,]+/).filter(Boolean).map((s) => s.toUpperCase());
        if (more.length) put(listName, [...current, ...more.filter((s) => !current.includes(s))]);
      });
      add.append(name, symbols, go);
      parts.push(add, el("h4", "", "Alerts"));
      const mine = alerts && alerts.ok ? await alerts.json() : [];
      if (!mine.length) parts.push(el("div", "", 'No alerts. Ask in the chat: "alert me when KO closes above 70".'));
      for (const a of mine) {
        const row = el("div", "alert", `${a.description} (${a.armed ? "armed" : "fired"}) `);
        const x = el("button", "", "delete");
        x.addEventListener("click", async () => {
          const r = await fetch(`/v1/alerts/${a.id}`, { method: "DELETE", credentials: "same-origin" });
          if (!r.ok && r.status !== 404) { const data = await r.json(); status.textContent = data.error ? data.error.message : "not deleted"; return; }
          await this.drawWatch();
        });
        row.append(x);
        parts.push(row);
      }
      parts.push(status);
      box.replaceChildren(...parts);
    }

    signInHint() {
      // no session in this browser: say how to get one, not "missing or invalid API key"
      if (this.log.querySelector(".signin")) return;
      this.log.append(el("div", "msg assistant signin",
        "Sign in first: open the one-time login link that `assistant serve` printed when it "
        + "started (restart it for a new one), or ask your administrator for a link."));
    }

    // The risk profile: its level and what it sets, and the four questions to (re)set it.
    async toggleProfile() {
      const box = this.profileBox;
      if (box.classList.toggle("open") === false) return;
      box.replaceChildren(el("div", "", "Loading…"));
      const r = await fetch("/v1/profile", { credentials: "same-origin" }).catch(() => null);
      if (!r || r.status === 401) { box.replaceChildren(); box.classList.remove("open"); this.signInHint(); return; }
      const view = await r.json();
      box.replaceChildren(el("div", "current", this.describeProfile(view.profile)));
      const selects = {};
      for (const q of view.questions) {
        box.append(el("label", "", q.text));
        const select = el("select");
        select.name = q.key;
        select.append(el("option", "", "—"));
        select.firstChild.value = "";
        for (const c of q.choices) {
          const option = el("option", "", c.label);
          option.value = c.value;
          if (view.profile && view.profile.answers && view.profile.answers[q.key] === c.value) option.selected = true;
          select.append(option);
        }
        selects[q.key] = select;
        box.append(select);
      }
      const save = el("button", "save", "Save profile");
      const status = el("div", "status");
      save.addEventListener("click", async () => {
        const answers = Object.fromEntries(Object.entries(selects).map(([k, s]) => [k, s.value]));
        if (Object.values(answers).some((v) => !v)) { status.textContent = "Answer all four questions."; return; }
        const put = await fetch("/v1/profile", {
          method: "PUT", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify(answers),
        });
        const data = await put.json();
        if (!put.ok) { status.textContent = data.error ? data.error.message : "not saved"; return; }
        box.querySelector(".current").textContent = this.describeProfile(data);
        status.textContent = "Saved.";
      });
      box.append(save, status);
    }

    describeProfile(p) {
      if (!p) return "No risk profile yet: answer the four questions below.";
      const s = p.settings;
      const pct = (x) => Math.round(x * 100) + "%";
      return `Your risk profile: ${p.level}. Optimisations default to ${s.method}, each stock at most `
        + `${pct(s.max_weight)}${s.max_volatility ? ", volatility at most " + pct(s.max_volatility) : ""}; `
        + `any one position you order is capped at ${pct(s.max_position_weight)} of equity.`;
    }

    canApprove() { return this.userRole === "approver" || this.userRole === "admin"; }

    message() {
      const answer = el("div", "msg assistant");
      const body = el("div");
      answer.append(body);
      this.log.append(answer);
      return { answer, body, steps: {}, cites: el("div", "cites") };
    }

    // Once an order waits for someone, watch the conversation: an approver elsewhere
    // (another browser, Slack, the API) resumes the run, and its answer appears here.
    // Our own turns and our own decisions arrive on their own responses, so the events
    // that come while one of those is in flight are not drawn twice.
    watch() {
      if (this.source || !this.conversation) return;
      this.source = new EventSource(`/v1/conversations/${this.conversation}/events`);
      let current = null;
      this.source.onmessage = (m) => {
        const event = JSON.parse(m.data);
        if (event.type === "message_start") current = this.busy ? null : this.message();
        if (!current) return;
        this.handle(event, current.body, current.answer, current.steps, current.cites);
        this.log.scrollTop = this.log.scrollHeight;
        if (event.type === "message_end" || event.type === "error") {
          current = null;
          this.log.querySelectorAll(".card:not(.decided)").forEach((card) => {
            card.classList.add("decided");
            card.querySelectorAll("button").forEach((b) => (b.disabled = true));
            card.querySelector(".status").textContent = "Decided; the outcome is below.";
          });
        }
      };
    }

    async ask() {
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.log.append(el("div", "msg user", text));
      const { answer, body, steps, cites } = this.message();
      this.busy = (this.busy || 0) + 1;
      try {
        const response = await fetch("/v1/chat", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ message: text, conversation_id: this.conversation }),
        });
        if (response.status === 401) { this.signInHint(); answer.remove(); return; }
        if (!response.ok) {
          const err = await response.json().catch(() => ({ error: { message: response.statusText } }));
          body.append(el("div", "error", err.error ? err.error.message : "request failed"));
          return;
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, cut).replace(/\r$/, "");
            buffer = buffer.slice(cut + 1);
            if (line.startsWith("data:")) this.handle(JSON.parse(line.slice(5)), body, answer, steps, cites);
          }
          this.log.scrollTop = this.log.scrollHeight;
        }
      } catch (exc) {
        body.append(el("div", "error", "connection lost: " + exc));
      } finally {
        this.busy -= 1;
      }
    }

    handle(event, body, answer, steps, cites) {
      switch (event.type) {
        case "message_start": this.conversation = event.conversation_id; break;
        case "text_delta": body.append(document.createTextNode(event.text)); break;
        case "tool_call": {
          const step = el("details", "step");
          const summary = el("summary", "", "→ " + event.name);
          step.append(summary, el("pre", "", JSON.stringify(event.args, null, 1)));
          steps[event.id] = { step, summary };
          answer.insertBefore(step, body);
          break;
        }
        case "tool_result": {
          const s = steps[event.id];
          if (s) {
            s.summary.textContent = (event.ok === false ? "✗ " : "✓ ") + event.name + ": " + event.summary;
            if (event.ok === false) s.step.classList.add("failed");
          }
          if (event.artifact_url) {
            const img = el("img", "chart");
            img.src = event.artifact_url;
            img.alt = event.name + " chart";
            answer.append(img);
          }
          break;
        }
        case "citation":
          if (!cites.parentNode) answer.append(cites);
          {
            const line = el("div", "", `[${event.n}] `);
            // only web addresses become links: a citation never runs script
            const title = /^https?:\/\//.test(event.url || "") ? el("a", "", event.title) : el("span", "", event.title);
            if (title.tagName === "A") { title.href = event.url; title.target = "_blank"; title.rel = "noopener"; }
            line.append(title, document.createTextNode(` — ${event.source}, ${event.date}`));
            cites.append(line);
          }
          break;
        case "approval_required": answer.append(this.card(event)); this.watch(); break;
        case "error": body.append(el("div", "error", event.message)); break;
      }
    }

    card(event) {
      const o = event.order;
      const card = el("div", "card");
      card.append(el("div", "", `Approval needed: ${o.side} ${o.quantity} ${o.symbol} (${o.type})`));
      const checks = event.risk_checks;
      card.append(el("div", "", checks.passed ? "Pre-trade checks passed:" : "Pre-trade checks failed:"));
      const list = el("ul", "checks");
      for (const c of checks.checks) list.append(el("li", c.passed ? "pass" : "fail", `${c.passed ? "✓" : "✗"} ${c.name}: ${c.reason}`));
      card.append(list);
      const expires = new Date(event.expires_at);  // the viewer's own clock and zone
      card.append(el("div", "expires", "Expires " + (isNaN(expires) ? event.expires_at
        : expires.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "long" }))));
      const status = el("div", "status");
      if (this.canApprove()) {
        for (const [label, action] of [["Approve", "approve"], ["Reject", "reject"]]) {
          const button = el("button", action, label);
          button.addEventListener("click", async () => {
            card.classList.add("decided");
            card.querySelectorAll("button").forEach((b) => (b.disabled = true));
            this.busy = (this.busy || 0) + 1;
            try {
              const r = await fetch(`/v1/approvals/${event.approval_id}/${action}`, { method: "POST", credentials: "same-origin" });
              const data = await r.json();
              status.textContent = r.ok ? `${data.status}. ${data.turn ? data.turn.answer.trim() : ""}`
                : (data.error ? data.error.message : "failed");
            } catch (exc) {
              status.textContent = "connection lost: " + exc;
            } finally {
              this.busy -= 1;
            }
          });
          card.append(button);
        }
      } else {
        card.append(el("div", "", "An approver must decide on this order."));
      }
      card.append(status);
      return card;
    }
  }

  if (!customElements.get("market-assistant")) customElements.define("market-assistant", MarketAssistant);
  if (!document.querySelector("market-assistant")) document.body.append(document.createElement("market-assistant"));
})();
