// One-tag widget for portals:
//   <div id="policy-search"></div>
//   <script src="https://SEARCH-HOST/widget.js" data-target="#policy-search" data-lang="vi"></script>
// Renders a search box, the answer and the passages under it inside the target element (in a
// shadow root, so the portal's styles and ours do not mix) and calls SEARCH-HOST/api/ask, which
// must list the portal's origin in POLICY_SEARCH_CORS_ORIGINS. All document text is set with
// textContent, never as HTML.
// Theme it from the portal's CSS with custom properties on the target element, e.g.
//   #policy-search { --ps-accent: #a4161a; --ps-font: Georgia, serif; --ps-radius: 0; }
// (--ps-accent, --ps-fg, --ps-muted, --ps-bg, --ps-line, --ps-font, --ps-radius).
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src, location.href).origin;
  const lang = script.dataset.lang === "en" ? "en" : "vi";
  const L = {
    vi: { ask: "Hỏi", placeholder: "Đặt câu hỏi về văn bản chính sách…", none: "Không tìm thấy câu trả lời trực tiếp.",
      searching: "Đang tìm…", error: "Không gọi được dịch vụ tra cứu.", more: "Xem đầy đủ kết quả",
      passages: "Các đoạn liên quan", label: "Tra cứu văn bản chính sách",
      refused: (o) => `Dịch vụ tra cứu chưa cho phép trang ${o} gọi đến. Quản trị viên cần thêm ${o} vào POLICY_SEARCH_CORS_ORIGINS.`,
      limited: "Quá nhiều yêu cầu; hãy thử lại sau ít phút." },
    en: { ask: "Ask", placeholder: "Ask about policy documents…", none: "No direct answer found.",
      searching: "Searching…", error: "The search service could not be reached.", more: "Open full results",
      passages: "Related passages", label: "Policy document search",
      refused: (o) => `The search service does not allow ${o} to call it yet. Its administrator must add ${o} to POLICY_SEARCH_CORS_ORIGINS.`,
      limited: "Too many requests; try again in a few minutes." },
  }[lang];

  // A CORS refusal and a dead server look the same to fetch (a TypeError). A no-cors request
  // tells them apart: it reaches a live server whatever its CORS list says.
  async function reason(err) {
    try {
      await fetch(`${base}/api/health`, { mode: "no-cors", cache: "no-store" });
    } catch (e) {
      return L.error;
    }
    console.error(`policy-search widget: ${base} refused this page's origin (${location.origin}). ` +
      `Add "${location.origin}" to POLICY_SEARCH_CORS_ORIGINS on the search service. (${err})`);
    return L.refused(location.origin);
  }

  function mount() {
    const target = document.querySelector(script.dataset.target || "#policy-search");
    if (!target) { console.error(`policy-search widget: no element ${script.dataset.target || "#policy-search"}`); return; }
    const root = target.attachShadow ? target.attachShadow({ mode: "open" }) : target;
    root.innerHTML = `<style>
      :host { display: block; }
      .w { font-family: var(--ps-font, system-ui, sans-serif); color: var(--ps-fg, #1b1f24); background: var(--ps-bg, transparent); }
      form { display: flex; gap: .4rem; }
      input { flex: 1; padding: .5rem; font: inherit; border: 1px solid var(--ps-line, #8c959f); border-radius: var(--ps-radius, 6px); min-width: 0; }
      button { padding: .5rem .9rem; border: 0; border-radius: var(--ps-radius, 6px); background: var(--ps-accent, #0b5cad); color: #fff; font: inherit; cursor: pointer; }
      .card { border: 1px solid var(--ps-line, #d0d7de); border-left: 4px solid var(--ps-accent, #0b5cad); border-radius: var(--ps-radius, 6px); padding: .5rem .75rem; margin-top: .5rem; }
      .answer { font-weight: 600; margin: .25rem 0 .5rem; }
      h3 { font-size: .95rem; margin: .5rem 0 .25rem; color: var(--ps-muted, #545d68); }
      ol { margin: 0; padding-left: 1.4rem; } li { margin: .35rem 0; }
      .text { margin: .1rem 0 0; font-size: .9rem; white-space: pre-line; overflow-wrap: anywhere; }
      .src { font-size: .85rem; color: var(--ps-muted, #545d68); margin-top: .4rem; }
      .error { color: #b42318; }
      a { color: var(--ps-accent, #0b5cad); } :focus-visible { outline: 3px solid #b45309; }
      </style><div class="w"><form role="search"><input type="search" aria-label="${L.label}" placeholder="${L.placeholder}">
      <button type="submit">${L.ask}</button></form><div class="out" role="status" aria-live="polite"></div></div>`;
    const form = root.querySelector("form"), input = root.querySelector("input"), out = root.querySelector(".out");
    const el = (tag, text, cls) => { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; };
    const link = (text, href) => { const a = el("a", text); a.href = href; a.target = "_blank"; a.rel = "noopener"; return a; };
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const q = input.value.trim();
      if (!q) { input.focus(); return; }
      out.textContent = L.searching;
      let r;
      try {
        r = await fetch(`${base}/api/ask?q=${encodeURIComponent(q)}&k=3&lang=${lang}`);
      } catch (e) {
        out.replaceChildren(el("p", await reason(e), "error"));
        return;
      }
      const res = await r.json().catch(() => ({}));
      if (!r.ok) {
        out.replaceChildren(el("p", r.status === 429 ? L.limited : L.error, "error"));
        console.error(`policy-search widget: ${r.status} ${res.error || ""}: ${res.detail || ""}`);
        return;
      }
      const card = el("div", null, "card");
      card.appendChild(el("p", res.answer ? res.answer.text : L.none, "answer"));
      if (res.passages.length) {
        card.appendChild(el("h3", L.passages));
        const ol = el("ol");
        for (const p of res.passages) {
          const li = el("li");
          li.value = p.n;
          li.appendChild(link(`${p.title}${p.section ? " — " + p.section : ""}`, base + p.url));
          li.appendChild(el("p", p.text.length > 280 ? p.text.slice(0, 280) + "…" : p.text, "text"));
          ol.appendChild(li);
        }
        card.appendChild(ol);
      }
      const line = el("div", null, "src");
      line.appendChild(link(L.more, `${base}/?q=${encodeURIComponent(q)}&lang=${lang}`));
      card.appendChild(line);
      out.replaceChildren(card);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount); else mount();
})();
