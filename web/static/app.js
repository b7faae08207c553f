// Search page: answer card, cited passages, document view. Plain JS, no build step.
// Every piece of document text is escaped before <mark> tags are added (see highlight()).
(function () {
  "use strict";

  const T = {
    vi: {
      skip: "Bỏ qua đến nội dung", brand: "Tra cứu văn bản chính sách", langLabel: "Switch to English",
      askLabel: "Câu hỏi", placeholder: "Ví dụ: Ai chủ trì quản lý chất thải đô thị?", ask: "Hỏi",
      filters: "Bộ lọc", type: "Loại văn bản", all: "Tất cả", plan: "Kế hoạch",
      agreement: "Thỏa thuận hợp tác", news: "Tin tức", province: "Tỉnh/thành", year: "Năm",
      answer: "Trả lời", passages: "Các đoạn liên quan", back: "← Quay lại kết quả",
      related: "Văn bản liên quan", noAnswer: "Không tìm thấy câu trả lời. Các đoạn gần nhất ở dưới.",
      searching: "Đang tìm…", page: "trang", open: "Mở đoạn trích", found: (n) => `${n} đoạn liên quan.`,
      error: "Lỗi: ", loading: "Đang mở văn bản…", source: "Nguồn", date: "Ngày",
      citedPassage: "Đoạn được trích dẫn",
    },
    en: {
      skip: "Skip to content", brand: "Policy document search", langLabel: "Chuyển sang tiếng Việt",
      askLabel: "Question", placeholder: "e.g. Who leads urban waste management?", ask: "Ask",
      filters: "Filters", type: "Document type", all: "All", plan: "Plan",
      agreement: "Cooperation agreement", news: "News", province: "Province", year: "Year",
      answer: "Answer", passages: "Related passages", back: "← Back to results",
      related: "Related documents", noAnswer: "No answer found. The nearest passages are below.",
      searching: "Searching…", page: "page", open: "Open passage", found: (n) => `${n} related passages.`,
      error: "Error: ", loading: "Opening document…", source: "Source", date: "Date",
      citedPassage: "Cited passage",
    },
  };
  // Compared with diacritics: folded, "đô" and "thì" would both be "do"/"thi".
  const STOP = new Set(("ai gì nào đâu bao nhiêu khi sao là có không của và các những được trong cho với về để thì " +
    "what who which how when where why the a an of is are in on for to and or does do").split(" "));
  const embed = document.body.classList.contains("embed");
  const $ = (id) => document.getElementById(id);
  const langParam = new URLSearchParams(location.search).get("lang");
  let lang = (langParam === "en" || langParam === "vi") ? langParam : (localStorage.getItem("ps-lang") || "vi");
  let lastQuery = "";
  let lastResult = null;
  let currentDoc = null;

  function t(key) { return T[lang][key]; }

  // Per-character fold keeps indices aligned with the original (NFC) string.
  function foldChar(c) {
    if (c === "đ" || c === "Đ") return "d";
    return c.normalize("NFD").charAt(0).toLowerCase();
  }
  function fold(s) { let out = ""; for (const c of s) out += foldChar(c); return out; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function terms(q) {
    const words = q.normalize("NFC").toLowerCase().split(/[^\p{L}\p{N}]+/u);
    return [...new Set(words.filter((w) => w.length > 1 && !STOP.has(w)).map(fold))];
  }
  // Escape first, mark second: ranges are found on the folded text, and each piece of
  // the original is escaped on its own before the <mark> tags are put around it.
  function highlight(text, words) {
    const chars = Array.from(text);
    const folded = chars.map(foldChar).join("");
    const hit = new Array(chars.length).fill(false);
    for (const w of words) {
      const re = new RegExp(`(^|[^\\p{L}\\p{N}])(${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})(?=$|[^\\p{L}\\p{N}])`, "gu");
      let m;
      while ((m = re.exec(folded)) !== null) {
        const start = Array.from(folded.slice(0, m.index + m[1].length)).length;
        for (let i = 0; i < Array.from(m[2]).length; i++) hit[start + i] = true;
        re.lastIndex = m.index + m[0].length;
      }
    }
    let out = "", i = 0;
    while (i < chars.length) {
      let j = i;
      while (j < chars.length && hit[j] === hit[i]) j++;
      const piece = esc(chars.slice(i, j).join(""));
      out += hit[i] ? `<mark>${piece}</mark>` : piece;
      i = j;
    }
    return out;
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    const b = $("lang");
    if (b) {
      b.textContent = lang === "vi" ? "EN" : "VI";
      b.setAttribute("aria-pressed", String(lang === "en"));
      b.setAttribute("aria-label", t("langLabel"));
    }
    document.title = t("brand");
    if (lastResult) renderAnswer(lastResult);
    if (currentDoc && !$("doc-view").hidden) { renderMeta(currentDoc); loadRelated(currentDoc.doc_id); }
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || r.statusText);
    return body;
  }

  async function loadFilters() {
    try {
      const data = await getJSON("/api/documents");
      const provinces = new Set(), years = new Set();
      for (const d of data.documents) {
        d.provinces.forEach((p) => provinces.add(p));
        if (d.date) years.add(d.date.slice(0, 4));
      }
      const add = (sel, values) => [...values].sort().forEach((v) => {
        const o = document.createElement("option"); o.value = v; o.textContent = v; sel.appendChild(o);
      });
      add($("f-province"), provinces);
      add($("f-year"), [...years].sort().reverse());
      const params = new URLSearchParams(location.search);
      for (const [k, id] of [["type", "f-type"], ["province", "f-province"], ["year", "f-year"]]) {
        if (params.get(k)) $(id).value = params.get(k);
      }
    } catch (e) { /* filters stay at "all" */ }
  }

  function passageLink(p) {
    return p.url;
  }

  function renderAnswer(res) {
    const card = $("answer");
    const words = terms(res.question);
    card.hidden = false;
    const cites = $("citations");
    cites.innerHTML = "";
    if (res.answer) {
      card.classList.remove("none");
      // [n] markers become links to the passage in its document.
      $("answer-text").innerHTML = esc(res.answer.text).replace(/\[(\d+)\]/g, (m, n) => {
        const p = res.passages.find((x) => x.n === Number(n));
        return p ? `<a class="cite" href="${esc(passageLink(p))}" data-n="${n}">[${n}]</a>` : m;
      });
      for (const n of res.answer.citations) {
        const p = res.passages.find((x) => x.n === n);
        if (!p) continue;
        const li = document.createElement("li");
        li.value = n;
        const page = p.page ? `, ${t("page")} ${p.page}` : "";
        li.innerHTML = `<a class="citation" href="${esc(passageLink(p))}" data-n="${n}">${esc(p.title)}</a>` +
          `<span class="where"> — ${esc(p.section || "")}${esc(page)}</span>`;
        cites.appendChild(li);
      }
    } else {
      card.classList.add("none");
      $("answer-text").textContent = t("noAnswer");
    }
    const list = $("passages");
    list.innerHTML = "";
    for (const p of res.passages) {
      const li = document.createElement("li");
      li.className = "passage";
      li.id = `r${p.n}`;
      const page = p.page ? ` · ${t("page")} ${p.page}` : "";
      li.innerHTML = `<h3><span class="num">[${p.n}]</span><a href="${esc(passageLink(p))}" data-n="${p.n}">${esc(p.title)}</a></h3>` +
        `<p class="where">${esc(p.section || "")}${esc(page)}</p>` +
        `<p class="ptext">${highlight(p.text, words)}</p>`;
      list.appendChild(li);
    }
    $("results").hidden = res.passages.length === 0;
    $("status").textContent = t("found")(res.passages.length);
  }

  function filterParams() {
    const params = new URLSearchParams();
    for (const [k, id] of [["type", "f-type"], ["province", "f-province"], ["year", "f-year"]]) {
      if ($(id).value) params.set(k, $(id).value);
    }
    return params;
  }

  async function ask(q, push) {
    lastQuery = q;
    const params = filterParams();
    params.set("q", q);
    if (push) history.pushState({}, "", `/?${params}`);
    showResults();
    $("status").textContent = t("searching");
    try {
      lastResult = await getJSON(`/api/ask?${params}&lang=${lang}`);
      renderAnswer(lastResult);
    } catch (e) {
      $("answer").hidden = true; $("results").hidden = true;
      $("status").textContent = t("error") + e.message;
    }
  }

  function showResults() {
    $("doc-view").hidden = true;
    $("results-view").hidden = false;
  }

  async function openDoc(docId, ordinal, push, url) {
    if (embed) { window.open(url, "_blank", "noopener"); return; }
    if (push) history.pushState({}, "", url);
    $("results-view").hidden = true;
    const view = $("doc-view");
    view.hidden = false;
    $("status").textContent = t("loading");
    try {
      const doc = await getJSON(`/api/documents/${encodeURIComponent(docId)}`);
      currentDoc = doc;
      $("doc-title").textContent = doc.title;
      renderMeta(doc);
      const body = $("doc-body");
      body.innerHTML = "";
      const words = terms(lastQuery);
      let first = null;
      for (const b of doc.blocks) {
        let el;
        if (b.heading_level !== null && b.heading_level !== undefined) {
          if (b.heading_level === 0) continue;
          el = document.createElement(`h${Math.min(3 + b.heading_level - 1, 5)}`);
          el.textContent = b.text;
        } else {
          el = document.createElement("p");
          el.innerHTML = ordinal !== null && b.passages.includes(ordinal) ? highlight(b.text, words) : esc(b.text);
          if (ordinal !== null && b.passages.includes(ordinal)) {
            el.classList.add("cited");
            el.setAttribute("aria-label", t("citedPassage"));
            if (!first) { first = el; el.id = `p${ordinal}`; el.tabIndex = -1; }
          }
        }
        body.appendChild(el);
      }
      $("status").textContent = "";
      if (first) { first.scrollIntoView({ block: "center" }); first.focus({ preventScroll: true }); }
      else { $("doc-title").tabIndex = -1; $("doc-title").focus(); }
      loadRelated(docId);
    } catch (e) {
      $("status").textContent = t("error") + e.message;
    }
  }

  function renderMeta(doc) {
    const meta = [doc.date && `${t("date")}: ${doc.date}`, doc.provinces.join(", "), `${t("source")}: ${doc.source}`];
    $("doc-meta").textContent = meta.filter(Boolean).join(" · ");
  }

  async function loadRelated(docId) {
    const box = $("related");
    try {
      const data = await getJSON(`/api/documents/${encodeURIComponent(docId)}/related?k=3&lang=${lang}`);
      const ul = $("related-list");
      ul.innerHTML = "";
      for (const r of data.related) {
        const li = document.createElement("li");
        li.innerHTML = `<a href="/doc/${encodeURIComponent(r.doc_id)}" data-doc="${esc(r.doc_id)}">${esc(r.title)}</a>` +
          ` <span class="why">(${esc(r.why)})</span>`;
        ul.appendChild(li);
      }
      box.hidden = data.related.length === 0;
    } catch (e) { box.hidden = true; }
  }

  function route() {
    const m = location.pathname.match(/^\/doc\/([^/]+)$/);
    if (m) {
      const hm = location.hash.match(/^#p(\d+)$/);
      openDoc(decodeURIComponent(m[1]), hm ? Number(hm[1]) : null, false, location.pathname + location.hash);
      return;
    }
    const q = new URLSearchParams(location.search).get("q");
    if (q && q === lastQuery && lastResult) { showResults(); renderAnswer(lastResult); return; }
    if (q) { $("q").value = q; ask(q, false); } else { showResults(); }
  }

  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    const href = a.getAttribute("href") || "";
    const m = href.match(/^\/doc\/([^/#?]+)(?:#p(\d+))?$/);
    if (!m) return;
    ev.preventDefault();
    openDoc(decodeURIComponent(m[1]), m[2] !== undefined ? Number(m[2]) : null, true, href);
  });
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (q) ask(q, true);
  });
  for (const id of ["f-type", "f-province", "f-year"]) {
    $(id).addEventListener("change", () => { if (lastQuery) ask(lastQuery, true); });
  }
  $("back").addEventListener("click", () => {
    if (lastResult) { history.back(); } else { history.pushState({}, "", "/"); showResults(); }
  });
  const langButton = $("lang");
  if (langButton) {
    langButton.addEventListener("click", () => {
      lang = lang === "vi" ? "en" : "vi";
      localStorage.setItem("ps-lang", lang);
      applyLang();
    });
  }
  document.addEventListener("keydown", (ev) => {
    // "/" jumps to the search box, as on most search sites.
    if (ev.key === "/" && document.activeElement !== $("q") && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) {
      ev.preventDefault(); $("q").focus();
    }
  });
  window.addEventListener("popstate", route);

  applyLang();
  loadFilters();
  route();
})();
