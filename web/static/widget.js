// One-tag widget for portals (README, "Embedding in a portal"):
//   <div id="policy-search"><a href="https://SEARCH-HOST/">Tra cứu văn bản chính sách</a></div>
//   <script src="https://SEARCH-HOST/widget.js" data-target="#policy-search" data-lang="vi"
//           data-province="Lào Cai" data-lock="province" async></script>
// The link inside the <div> is the fallback: if this script cannot load, the visitor still has
// the link; once it runs, the widget's shadow root (which has no <slot>) hides it.
// Renders, inside the target's shadow root (the portal's styles and ours do not mix), a box
// that asks (/api/ask: the answer and the passages under it) or searches (/api/search, page by
// page with offset/next_offset). The portal's origin must be listed in
// POLICY_SEARCH_CORS_ORIGINS. All document text is set with textContent, never as HTML.
//
// Options, as data-* attributes on the target element (first) or on the script tag:
//   data-lang      vi | en
//   data-mode      ask (default) | search; data-modes="ask" offers only one of them
//   data-province, data-type, data-issuer   filters set in advance
//   data-lock      the preset filters the visitor may not change ("province type"): always sent,
//                  shown as the widget's scope, not as a control
//   data-key       a search key, sent as the X-API-Key header (it is visible in the page: use a
//                  search key, never an admin key)
//   data-timeout   seconds before a request is given up (default 30)
//   data-k         results per page in search mode (default 5)
//   data-api       the search service's address when this file is served from elsewhere
//   data-fallback  where the "open the search page" link goes when the service cannot answer
// Events on the target element (bubbling): "policy-search:result" {mode, query, filters,
// offset, response} and "policy-search:error" {mode, query, kind, status, error, detail,
// retryAfter}. JS API: PolicySearch.mount(el, options) -> {search(q, offset), ask(q),
// setFilters(f), element}; options are the attributes' names without data-.
// Theme from the portal's CSS with custom properties on the target element, e.g.
//   #policy-search { --ps-accent: #a4161a; --ps-font: Georgia, serif; --ps-radius: 0; }
// (--ps-accent, --ps-fg, --ps-muted, --ps-bg, --ps-line, --ps-font, --ps-radius).
(function () {
  "use strict";
  const script = document.currentScript;
  const scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const FILTERS = ["province", "type", "issuer"];
  const TYPES = ["plan", "agreement", "news", "official"];
  const L = {
    vi: {
      ask: "Hỏi", search: "Tìm", modeAsk: "Hỏi đáp", modeSearch: "Tìm văn bản", modeLabel: "Cách tra cứu",
      placeholder: "Đặt câu hỏi về văn bản chính sách…", placeholderSearch: "Nhập từ khóa…",
      none: "Không tìm thấy câu trả lời trực tiếp.", noResults: "Không có kết quả.",
      searching: "Đang tìm…", more: "Xem đầy đủ kết quả", passages: "Các đoạn liên quan",
      label: "Tra cứu văn bản chính sách", filters: "Bộ lọc", scope: "Phạm vi",
      province: "Tỉnh/thành", type: "Loại văn bản", issuer: "Cơ quan ban hành", all: "Tất cả",
      types: { plan: "Kế hoạch", agreement: "Thỏa thuận hợp tác", news: "Tin tức", official: "Văn bản" },
      prev: "← Trang trước", next: "Trang sau →",
      range: (a, b, n) => `Kết quả ${a}–${b}` + (n ? ` (${n} đoạn chứa đủ các từ)` : ""),
      fallback: "Mở trang tra cứu",
      limited: (s, at) => `Bạn đã gửi quá nhiều yêu cầu. Hãy thử lại sau ${s} giây (lúc ${at}).`,
      ready: "Có thể thử lại.",
      busy: (s) => `Máy chủ tra cứu đang bận. Hãy thử lại` + (s ? ` sau ${s} giây.` : " sau ít phút."),
      unavailable: "Dịch vụ tra cứu tạm thời chưa sẵn sàng. Hãy thử lại sau.",
      slow: (s) => `Dịch vụ tra cứu không trả lời trong ${s} giây. Hãy thử lại.`,
      proxy: (s) => "Máy chủ tra cứu không trả lời (lỗi tại cổng kết nối). Hãy thử lại" + (s ? ` sau ${s} giây.` : " sau ít phút."),
      down: "Hiện không kết nối được với dịch vụ tra cứu.",
      blocked: "Tra cứu hiện chưa dùng được trên trang này.",
      key: "Dịch vụ tra cứu từ chối khóa truy cập của trang này.",
      bad: "Câu hỏi hoặc bộ lọc không dùng được.", other: "Đã có lỗi khi tra cứu.",
    },
    en: {
      ask: "Ask", search: "Search", modeAsk: "Ask a question", modeSearch: "Search documents", modeLabel: "Mode",
      placeholder: "Ask about policy documents…", placeholderSearch: "Type some keywords…",
      none: "No direct answer found.", noResults: "No results.",
      searching: "Searching…", more: "Open full results", passages: "Related passages",
      label: "Policy document search", filters: "Filters", scope: "Scope",
      province: "Province", type: "Document type", issuer: "Issuing body", all: "All",
      types: { plan: "Plan", agreement: "Cooperation agreement", news: "News", official: "Official document" },
      prev: "← Previous", next: "Next →",
      range: (a, b, n) => `Results ${a}–${b}` + (n ? ` (${n} passages contain every word)` : ""),
      fallback: "Open the search page",
      limited: (s, at) => `Too many requests. Try again in ${s} s (at ${at}).`,
      ready: "You can try again now.",
      busy: (s) => `The search service is busy. Try again` + (s ? ` in ${s} s.` : " in a few minutes."),
      unavailable: "The search service is not ready at the moment. Try again later.",
      slow: (s) => `The search service did not answer within ${s} s. Try again.`,
      proxy: (s) => "The search service did not answer (an error at its gateway). Try again" + (s ? ` in ${s} s.` : " in a few minutes."),
      down: "The search service cannot be reached at the moment.",
      blocked: "Search is not available on this page at the moment.",
      key: "The search service refused this page's access key.",
      bad: "The question or a filter cannot be used.", other: "Something went wrong with the search.",
    },
  };
  const STYLE = `
    :host { display: block; }
    .w { font-family: var(--ps-font, system-ui, sans-serif); color: var(--ps-fg, #1b1f24); background: var(--ps-bg, transparent); }
    form { display: flex; gap: .4rem; flex-wrap: wrap; }
    input, select { padding: .5rem; font: inherit; border: 1px solid var(--ps-line, #8c959f); border-radius: var(--ps-radius, 6px); min-width: 0; background: #fff; color: inherit; }
    form > input { flex: 1 1 12rem; }
    button { padding: .5rem .9rem; border: 0; border-radius: var(--ps-radius, 6px); background: var(--ps-accent, #0b5cad); color: #fff; font: inherit; cursor: pointer; }
    button:disabled { opacity: .55; cursor: not-allowed; }
    .modes { display: flex; gap: .25rem; margin-bottom: .4rem; }
    .modes button { background: transparent; color: var(--ps-accent, #0b5cad); border: 1px solid var(--ps-accent, #0b5cad); padding: .25rem .6rem; }
    .modes button[aria-pressed="true"] { background: var(--ps-accent, #0b5cad); color: #fff; }
    details { margin-top: .4rem; font-size: .9rem; } .fl { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .3rem; }
    .fl label { display: flex; flex-direction: column; gap: .15rem; flex: 1 1 9rem; }
    .scope { font-size: .85rem; color: var(--ps-muted, #545d68); margin: .35rem 0 0; }
    .card { border: 1px solid var(--ps-line, #d0d7de); border-left: 4px solid var(--ps-accent, #0b5cad); border-radius: var(--ps-radius, 6px); padding: .5rem .75rem; margin-top: .5rem; }
    .answer { font-weight: 600; margin: .25rem 0 .5rem; }
    h3 { font-size: .95rem; margin: .5rem 0 .25rem; color: var(--ps-muted, #545d68); }
    ol { margin: 0; padding-left: 1.6rem; } li { margin: .35rem 0; }
    .text { margin: .1rem 0 0; font-size: .9rem; white-space: pre-line; overflow-wrap: anywhere; }
    .src, .range { font-size: .85rem; color: var(--ps-muted, #545d68); margin-top: .4rem; }
    .pager { display: flex; gap: .4rem; margin-top: .4rem; }
    .error { color: #b42318; margin: .5rem 0 0; }
    a { color: var(--ps-accent, #0b5cad); } :focus-visible { outline: 3px solid #b45309; }`;

  function words(v) { return String(v || "").split(/[\s,]+/).filter(Boolean); }
  function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function link(text, href) { const a = el("a", text); a.href = href; a.target = "_blank"; a.rel = "noopener"; return a; }
  function clock(seconds) {
    return new Date(Date.now() + seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // Seconds to wait, from whatever the response says: Retry-After (seconds or a date), the
  // RateLimit header's t= (IETF draft) or RateLimit-Reset, else the "retry in N s" of the detail.
  function waitOf(headers, body) {
    const ra = headers.get("Retry-After");
    if (ra) {
      if (/^\d+$/.test(ra.trim())) return Number(ra.trim());
      const at = Date.parse(ra);
      if (!Number.isNaN(at)) return Math.max(1, Math.ceil((at - Date.now()) / 1000));
    }
    const rl = headers.get("RateLimit");
    const t = rl && rl.match(/(?:^|[;,\s])t=(\d+)/);
    if (t) return Number(t[1]);
    const reset = headers.get("RateLimit-Reset");
    if (reset && /^\d+$/.test(reset.trim())) return Number(reset.trim());
    const m = body && typeof body.detail === "string" && body.detail.match(/retry in (\d+) ?s/);
    return m ? Number(m[1]) : null;
  }

  class Widget {
    constructor(target, options) {
      const o = options || {};
      this.el = target;
      this.api = String(o.api || scriptOrigin).replace(/\/+$/, "");
      this.lang = o.lang === "en" ? "en" : "vi";
      this.t = L[this.lang];
      this.modes = words(o.modes || "ask search").filter((m) => m === "ask" || m === "search");
      if (!this.modes.length) this.modes = ["ask", "search"];
      this.mode = this.modes.includes(o.mode) ? o.mode : this.modes[0];
      this.key = o.key || "";
      this.timeout = Number(o.timeout) > 0 ? Number(o.timeout) : 30;
      this.k = Math.min(Math.max(parseInt(o.k, 10) || 5, 1), 50);
      const lock = Array.isArray(o.lock) ? o.lock : words(o.lock);
      this.locked = new Set(lock.filter((f) => FILTERS.includes(f)));
      this.filters = {};
      for (const f of FILTERS) if (o[f]) this.filters[f] = String(o[f]);
      // The link the portal put in the element (the fallback for when this script does not
      // load) is the best place to send a visitor when the service does not answer either.
      const own = target.querySelector && target.querySelector("a[href]");
      this.fallback = o.fallback || (own && own.href) || `${this.api}/`;
      this.until = 0;
      this.render();
      this.probe();
    }

    render() {
      const t = this.t;
      const root = this.el.shadowRoot || (this.el.attachShadow ? this.el.attachShadow({ mode: "open" }) : this.el);
      this.root = root;
      root.replaceChildren();
      const style = el("style"); style.textContent = STYLE; root.appendChild(style);
      const w = el("div", null, "w");
      if (this.modes.length > 1) {
        const modes = el("div", null, "modes");
        modes.setAttribute("role", "group"); modes.setAttribute("aria-label", t.modeLabel);
        for (const m of this.modes) {
          const b = el("button", m === "ask" ? t.modeAsk : t.modeSearch);
          b.type = "button"; b.dataset.mode = m;
          b.addEventListener("click", () => this.setMode(m));
          modes.appendChild(b);
        }
        w.appendChild(modes);
      }
      const form = el("form");
      form.setAttribute("role", "search");
      this.input = el("input", null, "q"); this.input.type = "search"; this.input.name = "q"; this.input.setAttribute("aria-label", t.label);
      this.button = el("button"); this.button.type = "submit";
      form.append(this.input, this.button);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const q = this.input.value.trim();
        if (!q) { this.input.focus(); return; }
        (this.mode === "ask" ? this.ask(q) : this.search(q, 0)).catch(() => { /* shown, and sent as an event */ });
      });
      w.appendChild(form);
      this.controls = {};
      const open = FILTERS.filter((f) => !this.locked.has(f));
      const box = el("details");
      box.appendChild(el("summary", t.filters));
      const fl = el("div", null, "fl");
      for (const f of open) {
        const label = el("label"); label.appendChild(el("span", t[f]));
        let c;
        if (f === "type") {
          c = el("select");
          const all = el("option", t.all); all.value = ""; c.appendChild(all);
          for (const v of TYPES) { const op = el("option", t.types[v]); op.value = v; c.appendChild(op); }
        } else { c = el("input"); c.type = "search"; c.maxLength = 200; }
        c.name = f; c.value = this.filters[f] || "";
        c.addEventListener("change", () => { if (c.value.trim()) this.filters[f] = c.value.trim(); else delete this.filters[f]; });
        label.appendChild(c); fl.appendChild(label); this.controls[f] = c;
      }
      box.appendChild(fl);
      if (open.some((f) => this.filters[f])) box.open = true;
      if (open.length) w.appendChild(box);
      this.scope = el("p", null, "scope");
      w.appendChild(this.scope);
      this.out = el("div", null, "out");
      this.out.setAttribute("role", "status"); this.out.setAttribute("aria-live", "polite");
      w.appendChild(this.out);
      root.appendChild(w);
      this.renderScope();
      this.setMode(this.mode);
    }

    renderScope() {
      const bits = [...this.locked].filter((f) => this.filters[f])
        .map((f) => (f === "type" ? this.t.types[this.filters[f]] || this.filters[f] : this.filters[f]));
      this.scope.textContent = bits.length ? `${this.t.scope}: ${bits.join(" · ")}` : "";
      this.scope.hidden = !bits.length;
    }

    setMode(mode) {
      if (!this.modes.includes(mode)) return;
      this.mode = mode;
      for (const b of this.root.querySelectorAll(".modes button")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
      this.button.textContent = mode === "ask" ? this.t.ask : this.t.search;
      this.input.placeholder = mode === "ask" ? this.t.placeholder : this.t.placeholderSearch;
    }

    // Filters from a portal's code; a locked one keeps its value.
    setFilters(filters) {
      for (const f of FILTERS) {
        if (this.locked.has(f) || !(f in (filters || {}))) continue;
        if (filters[f]) this.filters[f] = String(filters[f]); else delete this.filters[f];
        if (this.controls[f]) this.controls[f].value = this.filters[f] || "";
      }
    }

    params(q) {
      const p = new URLSearchParams({ q });
      for (const f of FILTERS) if (this.filters[f]) p.set(f, this.filters[f]);
      return p;
    }

    emit(name, detail) {
      this.el.dispatchEvent(new CustomEvent(`policy-search:${name}`, { detail, bubbles: true, composed: true }));
    }

    // Is the service there? Run once at load, so a dead server shows its message at once
    // instead of an empty box, and again after a request fails without a status.
    async probe() {
      let r;
      try {
        r = await fetch(`${this.api}/api/health`, { cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(Math.min(this.timeout, 10) * 1000) });
      } catch (e) {
        const kind = await this.diagnose(e);
        this.fail({ mode: null, query: null, kind, status: 0, error: "", detail: String(e), retryAfter: null });
        return kind;
      }
      if (r.ok) return "ok";
      const body = await r.json().catch(() => null);
      this.fail(this.classify(r, body, { mode: null, query: null }));
      return "unavailable";
    }

    // A fetch that fails without a status (a TypeError) is a CORS refusal, a proxy error page
    // without CORS headers (a 502 or 504 from nginx), or a server that is not there: fetch
    // cannot tell them apart. Two requests to the health route can. A CORS fetch that works
    // means this origin is allowed and the service is up: the failure was on the way (a proxy).
    // A no-cors fetch reaches any live server whatever its CORS list says.
    async diagnose(err) {
      const signal = () => AbortSignal.timeout(10000);
      try {
        await fetch(`${this.api}/api/health`, { cache: "no-store", credentials: "omit", signal: signal() });
        console.error(`policy-search widget: a request to ${this.api} failed without a response the page may read ` +
          `(a proxy in front of the service answered with an error and no CORS headers?) (${err})`);
        return "proxy";
      } catch (e) { /* not readable from this origin: refused, or down */ }
      try {
        await fetch(`${this.api}/api/health`, { mode: "no-cors", cache: "no-store", signal: signal() });
      } catch (e) {
        console.error(`policy-search widget: ${this.api} cannot be reached (${err})`);
        return "down";
      }
      // Addressed to the portal's developer (the console), not to the public (the page).
      console.error(`policy-search widget: ${this.api} answers but this page (${location.origin}) may not read ` +
        `its responses: add "${location.origin}" to POLICY_SEARCH_CORS_ORIGINS on the search service, ` +
        `or, if it is listed, check that the proxy in front of it adds CORS headers to error pages too (${err})`);
      return "blocked";
    }

    classify(r, body, base) {
      const error = (body && body.error) || "";
      const detail = (body && body.detail) || r.statusText || "";
      let kind = "other";
      if (r.status === 429) kind = "rate_limited";
      else if (r.status === 503) kind = error === "overloaded" || error === "timeout" ? "busy" : "unavailable";
      else if (r.status === 502 || r.status === 504) kind = "proxy";
      else if (r.status === 401 || r.status === 403) kind = "key";
      else if (r.status === 422) kind = "bad_request";
      const retryAfter = kind === "rate_limited" || kind === "proxy" || r.status === 503 ? waitOf(r.headers, body) : null;
      return { ...base, kind, status: r.status, error, detail, retryAfter };
    }

    // One API call: the key, a time limit, and every failure turned into a detail for the
    // page, the console and the error event.
    async call(path, params, base) {
      if (Date.now() < this.until) {
        const wait = Math.ceil((this.until - Date.now()) / 1000);
        const d = { ...base, kind: "rate_limited", status: 429, error: "rate_limited", detail: "waiting", retryAfter: wait };
        this.fail(d);
        throw Object.assign(new Error("rate limited"), { detail: d });
      }
      const headers = { Accept: "application/json" };
      if (this.key) headers["X-API-Key"] = this.key;
      const ctrl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, this.timeout * 1000);
      let r, body, d = null;
      try {
        r = await fetch(`${this.api}${path}?${params}`, { headers, signal: ctrl.signal, credentials: "omit" });
        body = await r.json().catch(() => null);
      } catch (e) {
        d = timedOut
          ? { ...base, kind: "timeout", status: 0, error: "", detail: String(e), retryAfter: null }
          : { ...base, kind: await this.diagnose(e), status: 0, error: "", detail: String(e), retryAfter: null };
      } finally { clearTimeout(timer); }
      if (!d && !r.ok) d = this.classify(r, body, base);
      if (!d && !body) d = { ...base, kind: "other", status: r.status, error: "", detail: "not JSON", retryAfter: null };
      if (d) {
        if (d.status) console.error(`policy-search widget: ${d.status} ${d.error}: ${d.detail}`);
        this.fail(d);
        throw Object.assign(new Error(d.detail || d.kind), { detail: d });
      }
      return body;
    }

    fail(d) {
      const t = this.t;
      const s = d.retryAfter;
      const text = {
        rate_limited: s ? t.limited(s, clock(s)) : t.busy(null), busy: t.busy(s), unavailable: t.unavailable,
        timeout: t.slow(this.timeout), proxy: t.proxy(s), down: t.down, blocked: t.blocked, key: t.key, bad_request: t.bad,
      }[d.kind] || t.other;
      const p = el("p", text, "error");
      const nodes = [p];
      if (["unavailable", "proxy", "down", "blocked", "key", "busy", "timeout", "other"].includes(d.kind)) {
        const line = el("p", null, "src"); line.appendChild(link(t.fallback, this.fallback)); nodes.push(line);
      }
      this.out.replaceChildren(...nodes);
      if (d.kind === "rate_limited" && s) this.hold(s, p);
      this.emit("error", d);
    }

    // Honour the wait a 429 gives: the button stays off and the message counts down.
    hold(seconds, p) {
      this.until = Date.now() + seconds * 1000;
      this.button.disabled = true;
      clearInterval(this.timer);
      const at = clock(seconds);
      this.timer = setInterval(() => {
        const left = Math.ceil((this.until - Date.now()) / 1000);
        if (left > 0) { p.textContent = this.t.limited(left, at); return; }
        clearInterval(this.timer);
        this.button.disabled = false;
        p.textContent = this.t.ready;
      }, 1000);
    }

    async ask(q) {
      q = String(q || "").trim();
      this.input.value = q;
      const base = { mode: "ask", query: q, filters: { ...this.filters }, offset: 0 };
      const p = this.params(q);
      p.set("k", "3"); p.set("lang", this.lang);
      this.out.textContent = this.t.searching;
      const res = await this.call("/api/ask", p, base);
      const t = this.t;
      const card = el("div", null, "card");
      card.appendChild(el("p", res.answer ? res.answer.text : t.none, "answer"));
      if (res.passages.length) {
        card.appendChild(el("h3", t.passages));
        const ol = el("ol");
        for (const x of res.passages) { const li = this.item(x); li.value = x.n; ol.appendChild(li); }
        card.appendChild(ol);
      }
      card.appendChild(this.fullLink(q));
      this.out.replaceChildren(card);
      this.emit("result", { ...base, response: res });
      return res;
    }

    async search(q, offset) {
      q = String(q || "").trim();
      offset = Math.max(0, parseInt(offset, 10) || 0);
      this.input.value = q;
      const base = { mode: "search", query: q, filters: { ...this.filters }, offset };
      const p = this.params(q);
      p.set("k", String(this.k));
      if (offset) p.set("offset", String(offset));
      this.out.textContent = this.t.searching;
      const res = await this.call("/api/search", p, base);
      const t = this.t;
      const card = el("div", null, "card");
      if (!res.results.length) card.appendChild(el("p", t.noResults, "answer"));
      else {
        card.appendChild(el("p", t.range(res.offset + 1, res.offset + res.results.length, res.total), "range"));
        const ol = el("ol");
        ol.start = res.offset + 1;
        for (const x of res.results) ol.appendChild(this.item(x));
        card.appendChild(ol);
      }
      const pager = el("div", null, "pager");
      if (res.offset > 0) {
        const prev = el("button", t.prev, "prev"); prev.type = "button";
        prev.addEventListener("click", () => this.search(q, Math.max(0, res.offset - this.k)).catch(() => {}));
        pager.appendChild(prev);
      }
      if (res.next_offset !== null && res.next_offset !== undefined) {
        const next = el("button", t.next, "next"); next.type = "button";
        next.addEventListener("click", () => this.search(q, res.next_offset).catch(() => {}));
        pager.appendChild(next);
      }
      if (pager.children.length) card.appendChild(pager);
      card.appendChild(this.fullLink(q));
      this.out.replaceChildren(card);
      this.emit("result", { ...base, response: res });
      return res;
    }

    item(x) {
      const li = el("li");
      li.appendChild(link(`${x.title}${x.section ? " — " + x.section : ""}`, this.api + x.url));
      li.appendChild(el("p", x.text.length > 280 ? x.text.slice(0, 280) + "…" : x.text, "text"));
      return li;
    }

    fullLink(q) {
      const p = this.params(q);
      p.set("lang", this.lang);
      const line = el("div", null, "src");
      line.appendChild(link(this.t.more, `${this.api}/?${p}`));
      return line;
    }
  }

  function options(target) {
    // The element's own attributes first (several widgets on one page), then the script's.
    const names = ["lang", "mode", "modes", "province", "type", "issuer", "lock", "key", "timeout", "k", "api", "fallback"];
    const o = {};
    for (const n of names) {
      const v = target.dataset[n] !== undefined ? target.dataset[n] : script && script.dataset[n];
      if (v !== undefined && v !== null) o[n] = v;
    }
    return o;
  }

  const mounted = new WeakMap();
  function mount(target, opts) {
    if (typeof target === "string") target = document.querySelector(target);
    if (!target) throw new Error("policy-search widget: no element to mount on");
    const w = new Widget(target, { ...options(target), ...(opts || {}) });
    const handle = {
      element: target,
      ask: (q) => w.ask(q),
      search: (q, offset) => w.search(q, offset || 0),
      setFilters: (f) => w.setFilters(f),
      setMode: (m) => w.setMode(m),
    };
    mounted.set(target, handle);
    return handle;
  }
  // The first copy loaded keeps the name; a second copy still mounts its own tag's widget.
  window.PolicySearch = window.PolicySearch || { mount, get: (target) => mounted.get(target) };

  function auto() {
    const selector = (script && script.dataset.target) || "#policy-search";
    const target = document.querySelector(selector);
    if (target) { mount(target); return; }
    // Without data-target the page may mount it itself (PolicySearch.mount).
    if (script && script.dataset.target) console.error(`policy-search widget: no element ${selector}`);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", auto); else auto();
})();
