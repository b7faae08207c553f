// One-tag widget for portals:
//   <div id="policy-search"></div>
//   <script src="https://SEARCH-HOST/widget.js" data-target="#policy-search" data-lang="vi"></script>
// Renders a search box and the answer card inside the target element (in a shadow root, so the
// portal's styles and ours do not mix) and calls SEARCH-HOST/api/ask, which must list the portal's
// origin in POLICY_SEARCH_CORS_ORIGINS. All document text is set with textContent, never as HTML.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src, location.href).origin;
  const lang = script.dataset.lang === "en" ? "en" : "vi";
  const L = {
    vi: { ask: "Hỏi", placeholder: "Đặt câu hỏi về văn bản chính sách…", none: "Không tìm thấy câu trả lời.",
      searching: "Đang tìm…", error: "Không gọi được dịch vụ tra cứu.", more: "Xem đầy đủ" },
    en: { ask: "Ask", placeholder: "Ask about policy documents…", none: "No answer found.",
      searching: "Searching…", error: "The search service could not be reached.", more: "Open full results" },
  }[lang];

  function mount() {
    const target = document.querySelector(script.dataset.target || "#policy-search");
    if (!target) return;
    const root = target.attachShadow ? target.attachShadow({ mode: "open" }) : target;
    root.innerHTML = `<style>
      :host, .w { font-family: system-ui, sans-serif; color: #1b1f24; }
      form { display: flex; gap: .4rem; } input { flex: 1; padding: .5rem; font-size: 1rem; border: 1px solid #d0d7de; border-radius: 6px; min-width: 0; }
      button { padding: .5rem .9rem; border: 0; border-radius: 6px; background: #0b5cad; color: #fff; font-size: 1rem; cursor: pointer; }
      .card { border: 1px solid #d0d7de; border-left: 4px solid #0b5cad; border-radius: 6px; padding: .5rem .75rem; margin-top: .5rem; }
      .src { font-size: .85rem; color: #57606a; } a { color: #0b5cad; } :focus-visible { outline: 3px solid #f59e0b; }
      </style><div class="w"><form role="search"><input type="search" aria-label="${L.placeholder}" placeholder="${L.placeholder}" required>
      <button type="submit">${L.ask}</button></form><div class="out" role="status" aria-live="polite"></div></div>`;
    const form = root.querySelector("form"), input = root.querySelector("input"), out = root.querySelector(".out");
    const el = (tag, text, cls) => { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; };
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      out.textContent = L.searching;
      try {
        const r = await fetch(`${base}/api/ask?q=${encodeURIComponent(q)}&k=3&lang=${lang}`);
        const res = await r.json();
        if (!r.ok) throw new Error(res.detail || r.statusText);
        out.textContent = "";
        const card = el("div", null, "card");
        card.appendChild(el("p", res.answer ? res.answer.text : L.none));
        for (const n of res.answer ? res.answer.citations : []) {
          const p = res.passages.find((x) => x.n === n);
          if (!p) continue;
          const a = el("a", `[${n}] ${p.title}${p.section ? " — " + p.section : ""}`);
          a.href = base + p.url; a.target = "_blank"; a.rel = "noopener";
          const line = el("div", null, "src"); line.appendChild(a); card.appendChild(line);
        }
        const more = el("a", L.more);
        more.href = `${base}/?q=${encodeURIComponent(q)}&lang=${lang}`; more.target = "_blank"; more.rel = "noopener";
        const line = el("div", null, "src"); line.appendChild(more); card.appendChild(line);
        out.appendChild(card);
      } catch (e) {
        out.textContent = L.error;
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount); else mount();
})();
