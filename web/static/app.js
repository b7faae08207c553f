// Search page: instant results grouped by document, answer card, collection browser with
// facets, document view, share and cite. Plain JS, no build step.
// Every piece of document text is escaped before <mark> tags are added (see highlight()).
// The URL holds the whole state (q, filters, sort, exact): a shared link, a reload and
// Back/Forward all show what the URL says.
(function () {
  "use strict";

  const T = {
    vi: {
      skip: "Bỏ qua đến nội dung", brand: "Tra cứu văn bản chính sách", langLabel: " – English",
      langShort: "EN", askLabel: "Câu hỏi", placeholder: "Ví dụ: Ai chủ trì quản lý chất thải đô thị?",
      ask: "Hỏi", filters: "Bộ lọc", type: "Loại văn bản", all: "Tất cả", plan: "Kế hoạch",
      agreement: "Thỏa thuận hợp tác", news: "Tin tức", official: "Văn bản", unknown: "Chưa rõ", province: "Tỉnh/thành",
      year: "Năm", sourceF: "Nguồn", noSite: "Không có địa chỉ web", sortLabel: "Sắp xếp",
      docType: "Hình thức văn bản", issuer: "Cơ quan ban hành", issuerHint: "VD: UBND tỉnh Lào Cai",
      number: "Số hiệu", numberHint: "VD: 2666/QĐ-UBND", dateFrom: "Từ ngày", dateTo: "Đến ngày",
      byRelevance: "Liên quan nhất", byDate: "Mới nhất", byTitle: "Theo tên", clear: "Xóa bộ lọc",
      onlyDoc: (t) => `Chỉ trong: ${t}`, examples: "Câu hỏi ví dụ", collection: "Văn bản trong kho",
      docsCount: (n) => `${n} văn bản`, moreDocs: "Xem thêm văn bản", answer: "Trả lời",
      passages: "Các đoạn liên quan", nearest: "Các đoạn gần nghĩa nhất", more: "Xem thêm kết quả",
      moreFrom: (n) => `Thêm từ văn bản này (${n})`, moreFromPlain: "Thêm từ văn bản này",
      back: "← Quay lại kết quả", home: "← Trang chủ", related: "Văn bản liên quan",
      references: "Văn bản được viện dẫn", citedBy: "Văn bản viện dẫn văn bản này",
      noAnswer: "Không tìm thấy câu trả lời trực tiếp trong các văn bản.",
      searching: "Đang tìm…", page: "trang", loading: "Đang mở văn bản…", source: "Nguồn",
      date: "Ngày", citedPassage: "Đoạn được trích dẫn",
      total: (n, d) => `${n} đoạn chứa đủ các từ đã tìm, trong ${d} văn bản.`,
      noneExact: "Không đoạn nào chứa đủ các từ đã tìm; dưới đây là các đoạn gần nghĩa nhất.",
      noMatch: "Không có văn bản nào khớp bộ lọc đã chọn.",
      shown: (n, d) => `Đang hiện ${n} đoạn tốt nhất, thuộc ${d} văn bản.`,
      restored: "Kết quả cho:", asTyped: "Tìm đúng như đã gõ:",
      empty: "Hãy nhập câu hỏi hoặc từ khóa.",
      cut: (n) => `Câu hỏi dán vào dài hơn ${n} ký tự nên đã bị cắt bớt ở ký tự thứ ${n}.`,
      copyLink: "Sao chép liên kết", cite: "Sao chép trích dẫn", openDoc: "Mở văn bản",
      openSource: "Mở nguồn gốc", download: "Tải tệp gốc", copied: "Đã sao chép.",
      copyFailed: "Không sao chép được; hãy chọn và sao chép bằng tay.",
      docTypeLabel: "Loại", passagesN: (n) => `${n} đoạn`, apiDocs: "Tài liệu API", admin: "Quản trị",
      scope: "Phạm vi", retryIn: (s) => `Hãy thử lại sau ${s} giây.`,
      err: {
        bad_query: "Câu hỏi không dùng được.", query_too_long: "Câu hỏi quá dài.",
        bad_filter: "Câu hỏi hoặc bộ lọc không dùng được; hãy xem lại số hiệu, cơ quan ban hành hoặc ngày.",
        bad_request: "Yêu cầu không hợp lệ.", not_found: "Không tìm thấy văn bản này.",
        index_unavailable: "Chưa có chỉ mục để tra cứu. Hãy thử lại sau.",
        rate_limited: "Bạn gửi quá nhiều yêu cầu; hãy đợi một lát rồi thử lại.",
        unauthorized: "Dịch vụ cần khóa truy cập.", forbidden: "Khóa không có quyền này.",
        busy: "Máy chủ đang bận; hãy thử lại sau.", overloaded: "Máy chủ đang bận; hãy thử lại sau.",
        timeout: "Máy chủ trả lời quá lâu; hãy thử lại.",
        network: "Không kết nối được với máy chủ.", other: "Đã có lỗi xảy ra",
      },
    },
    en: {
      skip: "Skip to content", brand: "Policy document search", langLabel: " – Tiếng Việt",
      langShort: "VI", askLabel: "Question", placeholder: "e.g. Who leads urban waste management?",
      ask: "Ask", filters: "Filters", type: "Document type", all: "All", plan: "Plan",
      agreement: "Cooperation agreement", news: "News", official: "Official document", unknown: "Unknown", province: "Province",
      year: "Year", sourceF: "Source", noSite: "No web address", sortLabel: "Sort",
      docType: "Official document type", issuer: "Issuing body", issuerHint: "e.g. UBND tỉnh Lào Cai",
      number: "Document number", numberHint: "e.g. 2666/QĐ-UBND", dateFrom: "From date", dateTo: "To date",
      byRelevance: "Most relevant", byDate: "Newest", byTitle: "By title", clear: "Clear filters",
      onlyDoc: (t) => `Only in: ${t}`, examples: "Example questions", collection: "Documents in the collection",
      docsCount: (n) => `${n} documents`, moreDocs: "More documents", answer: "Answer",
      passages: "Related passages", nearest: "Nearest passages in meaning", more: "More results",
      moreFrom: (n) => `More from this document (${n})`, moreFromPlain: "More from this document",
      back: "← Back to results", home: "← Home", related: "Related documents",
      references: "Documents it cites", citedBy: "Documents citing it",
      noAnswer: "No direct answer was found in the documents.",
      searching: "Searching…", page: "page", loading: "Opening document…", source: "Source",
      date: "Date", citedPassage: "Cited passage",
      total: (n, d) => `${n} passages contain every word searched, in ${d} documents.`,
      noneExact: "No passage contains every word searched; these are the nearest in meaning.",
      noMatch: "No document matches the filters chosen.",
      shown: (n, d) => `Showing the best ${n} passages, from ${d} documents.`,
      restored: "Results for:", asTyped: "Search exactly as typed:",
      empty: "Type a question or some keywords.",
      cut: (n) => `The pasted question was longer than ${n} characters and was cut at character ${n}.`,
      copyLink: "Copy link", cite: "Copy citation", openDoc: "Open document",
      openSource: "Open original source", download: "Download original file", copied: "Copied.",
      copyFailed: "Could not copy; select the text and copy it by hand.",
      docTypeLabel: "Type", passagesN: (n) => `${n} passages`, apiDocs: "API documentation", admin: "Admin",
      scope: "Scope", retryIn: (s) => `Try again in ${s} s.`,
      err: {
        bad_query: "The question cannot be used.", query_too_long: "The question is too long.",
        bad_filter: "The question or a filter cannot be used; check the number, issuing body or dates.",
        bad_request: "The request is not valid.", not_found: "This document was not found.",
        index_unavailable: "There is no index to search yet. Try again later.",
        rate_limited: "Too many requests; wait a moment and try again.",
        unauthorized: "This service needs an access key.", forbidden: "This key may not do that.",
        busy: "The server is busy; try again later.", overloaded: "The server is busy; try again later.",
        timeout: "The server took too long to answer; try again.",
        network: "The server could not be reached.", other: "Something went wrong",
      },
    },
  };
  const EXAMPLES = {
    vi: ["Ai chủ trì quản lý chất thải đô thị?", "Lào Cai hợp tác với Vingroup về những gì?",
      "ke hoach tang truong xanh Tra Vinh", "Cần Thơ hợp tác với Hiroshima trong lĩnh vực nào?"],
    en: ["Who leads urban waste management?", "What did Lao Cai agree with Vingroup?",
      "green growth cooperation with Kobe", "Tra Vinh green growth plan"],
  };
  const PAGE = 10;
  const PER_GROUP = 2;
  const DEBOUNCE_MS = 250;
  const embed = document.body.classList.contains("embed");
  const $ = (id) => document.getElementById(id);
  // Menus with counts (facets of /api/documents), then the boxes typed into.
  const FACET_FILTERS = [["type", "f-type"], ["province", "f-province"], ["year", "f-year"], ["source", "f-source"],
    ["document_type", "f-doctype"]];
  const TEXT_FILTERS = [["issuer", "f-issuer"], ["number", "f-number"], ["date_from", "f-from"], ["date_to", "f-to"]];
  const FILTERS = FACET_FILTERS.concat(TEXT_FILTERS);
  const langParam = new URLSearchParams(location.search).get("lang");
  // The framed page (/embed?province=...&lock=province): the filters a portal locks keep the
  // values of the frame's first URL whatever the visitor does; their menus are hidden.
  const LOCK = {};
  if (embed) {
    const first = new URLSearchParams(location.search);
    for (const k of (first.get("lock") || "").split(/[\s,]+/)) {
      if (FILTERS.some(([f]) => f === k) && first.get(k)) LOCK[k] = first.get(k);
    }
  }
  const lockParam = Object.keys(LOCK).join(",");
  let lang = (langParam === "en" || langParam === "vi") ? langParam : (localStorage.getItem("ps-lang") || "vi");
  let state = null;        // what the URL says: {q, filters, sort, exact, doc}
  let results = null;      // {key, items, total, totalDocs, next, restored, terms, kind}
  let lastAnswer = null;   // the /api/ask response for state.q
  let currentDoc = null;
  let docsPage = null;     // home view: {key, items, total}
  let inflight = null;     // AbortController of the search being typed
  let debounce = 0;
  const cache = new Map(); // url -> JSON, so backspace and Back are instant

  function t(key) { return T[lang][key]; }

  // --- text helpers -----------------------------------------------------------------------
  function foldChar(c) {
    if (c === "đ" || c === "Đ") return "d";
    return c.normalize("NFD").charAt(0).toLowerCase();
  }
  function fold(s) { let out = ""; for (const c of s) out += foldChar(c); return out; }
  const hasMarks = (s) => fold(s) !== s.toLowerCase();
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  const reEsc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  // Marks ``phrases`` (from the API: accented where typed with marks, folded where not) in
  // ``text``. An accented phrase matches only with the same marks ("thải" never marks
  // "thái"); a folded one matches any marks. Phrases of several words are marked first;
  // single words only in a passage where no phrase matched. ``span``: the answer's exact
  // text, marked on its own.
  function highlight(text, phrases, span) {
    const chars = Array.from(text.normalize("NFC"));
    const lower = chars.map((c) => c.toLowerCase()).join("");
    const folded = chars.map(foldChar).join("");
    const hit = new Array(chars.length).fill(0);
    const mark = (hay, needle, cls) => {
      const re = new RegExp(`(^|[^\\p{L}\\p{N}])(${needle.split(/\s+/).map(reEsc).join("\\s+")})(?=$|[^\\p{L}\\p{N}])`, "gu");
      let m, n = 0;
      while ((m = re.exec(hay)) !== null) {
        const start = Array.from(hay.slice(0, m.index + m[1].length)).length;
        const len = Array.from(m[2]).length;
        for (let i = start; i < start + len; i++) hit[i] = Math.max(hit[i], cls);
        re.lastIndex = m.index + m[0].length;
        n++;
      }
      return n;
    };
    const find = (p, cls) => hasMarks(p) ? mark(lower, p.normalize("NFC").toLowerCase(), cls) : mark(folded, fold(p), cls);
    if (span) mark(lower, span.normalize("NFC").toLowerCase().trim(), 2);
    const multi = phrases.filter((p) => /\s/.test(p.trim()));
    let found = 0;
    for (const p of multi) found += find(p, 1);
    if (!found) for (const p of phrases.filter((x) => !/\s/.test(x.trim()))) find(p, 1);
    let out = "", i = 0;
    while (i < chars.length) {
      let j = i;
      while (j < chars.length && hit[j] === hit[i]) j++;
      const piece = esc(chars.slice(i, j).join(""));
      out += hit[i] === 2 ? `<mark class="span">${piece}</mark>` : hit[i] ? `<mark>${piece}</mark>` : piece;
      i = j;
    }
    return out;
  }

  // --- API --------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(code, detail, status, retryAfter) { super(detail); this.code = code; this.status = status; this.retryAfter = retryAfter; }
  }
  async function getJSON(url, signal) {
    if (cache.has(url)) return cache.get(url);
    let r;
    try { r = await fetch(url, { headers: { Accept: "application/json" }, signal }); }
    catch (e) { if (e.name === "AbortError") throw e; throw new ApiError("network", String(e), 0); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const ra = Number(r.headers.get("Retry-After"));
      throw new ApiError(body.error || "other", body.detail || r.statusText, r.status, ra > 0 ? ra : null);
    }
    if (cache.size > 100) cache.delete(cache.keys().next().value);
    cache.set(url, body);
    return body;
  }
  // Errors are shown from their stable code, in the page's language; the server's English
  // detail goes to the console for whoever debugs.
  function errorText(e) {
    const msgs = t("err");
    if (e.code === "bad_query" && state && state.q.length > Number($("q").maxLength)) return msgs.query_too_long;
    if (e.code === "bad_query" && state && TEXT_FILTERS.some(([k]) => state.filters[k])) return msgs.bad_filter;
    let text = msgs[e.code] || `${msgs.other} (${e.code || e.status || "?"}).`;
    if (e.detail || e.message) console.warn("policy-search:", e.code, e.message);
    tell("error", { code: e.code, status: e.status, retryAfter: e.retryAfter || null });
    if (e.retryAfter && (e.status === 429 || e.status === 503)) {
      text = `${text} ${t("retryIn")(e.retryAfter)}`;
      // Honour the wait: the button stays off until it has passed.
      const button = $("search").querySelector("button[type=submit]");
      button.disabled = true;
      clearTimeout(errorText.hold);
      errorText.hold = setTimeout(() => { button.disabled = false; }, e.retryAfter * 1000);
    }
    return text;
  }

  // Inside a portal's iframe: results and errors go to the portal too (embed-resize.js turns
  // them into "policy-search:result" / "policy-search:error" events on the iframe element).
  function tell(kind, detail) {
    if (!embed || window.parent === window) return;
    window.parent.postMessage({ type: `policy-search:${kind}`, detail }, "*");
  }

  // --- state <-> URL ----------------------------------------------------------------------
  function readURL() {
    const p = new URLSearchParams(location.search);
    const filters = {};
    for (const [k] of FILTERS) if (p.get(k)) filters[k] = p.get(k);
    Object.assign(filters, LOCK);
    return { q: (p.get("q") || "").trim(), filters, sort: p.get("sort") || "", exact: p.get("exact") === "1", doc: p.get("doc") || "" };
  }
  function stateURL(s) {
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    for (const [k] of FILTERS) if (s.filters[k]) p.set(k, s.filters[k]);
    if (s.doc) p.set("doc", s.doc);
    if (s.sort) p.set("sort", s.sort);
    if (s.exact) p.set("exact", "1");
    if (embed) p.set("lang", lang);
    if (lockParam) p.set("lock", lockParam);
    const qs = p.toString();
    return (embed ? "/embed" : "/") + (qs ? `?${qs}` : "");
  }
  function controlsState() {
    const filters = {};
    for (const [k, id] of FILTERS) if ($(id).value.trim()) filters[k] = $(id).value.trim();
    Object.assign(filters, LOCK);
    const sort = $("f-sort").value;
    return { q: $("q").value.trim(), filters, sort, exact: false, doc: state ? state.doc : "" };
  }
  function setControls(s) {
    $("q").value = s.q;
    for (const [k, id] of FACET_FILTERS) ensureOption($(id), s.filters[k] || "");
    for (const [k, id] of TEXT_FILTERS) $(id).value = dateBox(k, s.filters[k] || "");
    // One menu, two lists: results sort by relevance (default) or date; the collection
    // without a query by date (default) or title.
    const sort = $("f-sort");
    sort.options[0].textContent = s.q ? t("byRelevance") : t("byDate");
    sort.options[1].hidden = !s.q;
    sort.options[2].hidden = !!s.q;
    sort.value = (s.q ? s.sort === "date" : s.sort === "title") ? s.sort : "";
    const active = unlocked(s.filters) + (s.doc ? 1 : 0);
    $("filters-count").textContent = active ? ` (${active})` : "";
    if (active) $("filters-box").open = true;
    const chip = $("doc-filter");
    chip.hidden = !s.doc;
    if (s.doc) chip.textContent = t("onlyDoc")(s.doc);
    $("clear").hidden = !unlocked(s.filters) && !s.doc;
  }
  const unlocked = (filters) => Object.keys(filters).filter((k) => !(k in LOCK)).length;
  function renderScope() {
    const box = $("scope");
    const bits = Object.entries(LOCK).map(([k, v]) => (k === "type" ? typeLabel(v) : v));
    box.hidden = !bits.length;
    box.textContent = bits.length ? `${t("scope")}: ${bits.join(" · ")}` : "";
    for (const k of Object.keys(LOCK)) {
      const pair = FILTERS.find(([f]) => f === k);
      if (pair) $(pair[1]).closest("label").hidden = true;
    }
  }
  // A date box holds a whole day: a link's "2024" or "2024-09" is shown as the day that
  // starts (from) or ends (to) that period, the same range.
  function dateBox(k, v) {
    if (!/^date_/.test(k) || !/^\d{4}(-\d{2})?$/.test(v)) return v;
    if (k === "date_from") return v.length === 4 ? `${v}-01-01` : `${v}-01`;
    if (v.length === 4) return `${v}-12-31`;
    const [y, m] = v.split("-").map(Number);
    return `${v}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`;
  }
  function ensureOption(sel, value) {
    if (value && ![...sel.options].some((o) => o.value === value)) {
      const o = document.createElement("option"); o.value = value; o.textContent = value; sel.appendChild(o);
    }
    sel.value = value;
  }
  function apiFilters(s) {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (k !== "source" && s.filters[k]) p.set(k, s.filters[k]);
    if (s.doc) p.set("doc", s.doc);
    return p;
  }

  // --- language ---------------------------------------------------------------------------
  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => {
      const v = t(el.dataset.i18n); if (typeof v === "string") el.textContent = v;
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    const b = $("lang");
    if (b) {
      b.firstChild.textContent = t("langShort");
      b.setAttribute("aria-pressed", String(lang === "en"));
      b.lastElementChild.lang = lang === "vi" ? "en" : "vi";
    }
    renderExamples();
    renderScope();
    if (state) { setControls(state); renderFacets(lastFacets); }
    if (results) renderResults();
    if (lastAnswer) renderAnswer(lastAnswer);
    if (docsPage) renderDocs();
    if (currentDoc && !$("doc-view").hidden) { renderMeta(currentDoc); loadRelated(currentDoc.doc_id); }
    setTitle();
  }
  function setTitle() {
    const brand = t("brand");
    if (currentDoc && !$("doc-view").hidden) document.title = `${currentDoc.title} – ${brand}`;
    else if (state && state.q) document.title = `${state.q} – ${brand}`;
    else document.title = brand;
  }

  // --- facets (the filter menus, with counts) ---------------------------------------------
  let lastFacets = null;
  const typeLabel = (v) => (v && t(v) && typeof t(v) === "string" ? t(v) : v || t("unknown"));
  function renderFacets(facets) {
    if (!facets) return;
    lastFacets = facets;
    const label = { type: typeLabel, province: (v) => v, year: (v) => v, source: (v) => (v === "none" ? t("noSite") : v), document_type: (v) => v };
    for (const [k, id] of FACET_FILTERS) {
      const sel = $(id), current = (state && state.filters[k]) || "";
      const counts = facets[k] || {};
      let values = Object.keys(counts);
      if (k === "year") values.sort().reverse(); else if (k !== "type") values.sort((a, b) => a.localeCompare(b, "vi"));
      if (k === "type") values = values.filter((v) => v !== "unknown");
      sel.replaceChildren();
      const all = document.createElement("option"); all.value = ""; all.textContent = t("all"); sel.appendChild(all);
      for (const v of values) {
        const o = document.createElement("option"); o.value = v; o.textContent = `${label[k](v)} (${counts[v]})`; sel.appendChild(o);
      }
      ensureOption(sel, current);
    }
  }
  async function loadFacets(s) {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (s.filters[k]) p.set(k, s.filters[k]);
    p.set("limit", "1");
    try { renderFacets((await getJSON(`/api/documents?${p}`)).facets); } catch (e) { /* menus keep what they had */ }
  }

  // --- home: examples and the collection ----------------------------------------------------
  function renderExamples() {
    const ul = $("examples");
    if (!ul) return;
    ul.replaceChildren();
    for (const q of EXAMPLES[lang]) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `/?q=${encodeURIComponent(q)}`; a.textContent = q; a.dataset.q = q;
      li.appendChild(a); ul.appendChild(li);
    }
  }
  async function loadDocs(s, append) {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (s.filters[k]) p.set(k, s.filters[k]);
    p.set("sort", s.sort === "title" ? "title" : "date");
    p.set("limit", String(PAGE * 2));
    p.set("offset", String(append && docsPage ? docsPage.items.length : 0));
    const key = JSON.stringify([s.filters, s.sort]);
    try {
      const data = await getJSON(`/api/documents?${p}`);
      if (state !== s) return;
      renderFacets(data.facets);
      docsPage = append && docsPage && docsPage.key === key
        ? { key, items: docsPage.items.concat(data.documents), total: data.total }
        : { key, items: data.documents, total: data.total };
      renderDocs();
      $("status").textContent = data.total ? "" : t("noMatch");
    } catch (e) { $("status").textContent = errorText(e); }
  }
  function docMeta(d) {
    // An official document is named as officials name it: type, number, issuer.
    const official = [d.document_type, d.number].filter(Boolean).join(" ");
    const bits = [official || typeLabel(d.type), d.issuer, d.date, d.provinces.join(", "), d.site && d.site !== "none" ? d.site : ""];
    return bits.filter(Boolean).join(" · ");
  }
  function renderDocs() {
    const ol = $("doc-list");
    ol.replaceChildren();
    for (const d of docsPage.items) {
      const li = document.createElement("li");
      li.innerHTML = `<a href="/doc/${encodeURIComponent(d.doc_id)}">${esc(d.title)}</a>` +
        `<p class="where">${esc(docMeta(d))} · ${esc(t("passagesN")(d.chunks))}</p>`;
      ol.appendChild(li);
    }
    $("docs-count").textContent = t("docsCount")(docsPage.total);
    $("docs-more").hidden = docsPage.items.length >= docsPage.total;
  }

  // --- results ----------------------------------------------------------------------------
  function searchURL(s, offset, extra) {
    const p = apiFilters(s);
    p.set("q", s.q);
    p.set("k", String(PAGE));
    if (offset) p.set("offset", String(offset));
    if (s.exact) p.set("restore", "false");
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return `/api/search?${p}`;
  }
  async function runSearch(s, signal) {
    const data = await getJSON(searchURL(s, 0), signal);
    if (state !== s) return;
    results = {
      items: data.results.map((r) => ({ ...r })), total: data.with_all_words, totalDocs: data.with_all_words_documents,
      next: data.next_offset, restored: data.restored, terms: data.highlight || [], kind: data.kind,
      extra: {},
    };
    renderResults();
    tell("result", { mode: "search", query: s.q, filters: { ...s.filters }, offset: 0, total: data.total,
      results: data.results.length, next_offset: data.next_offset });
  }
  async function loadMore() {
    const s = state;
    if (!results || results.next === null) return;
    $("more").disabled = true;
    try {
      const data = await getJSON(searchURL(s, results.next));
      if (state !== s) return;
      const seen = new Set(results.items.map((r) => r.url));
      results.items.push(...data.results.filter((r) => !seen.has(r.url)));
      results.next = data.next_offset;
      renderResults();
      tell("result", { mode: "search", query: s.q, filters: { ...s.filters }, offset: data.offset, total: data.total,
        results: data.results.length, next_offset: data.next_offset });
    } catch (e) { $("status").textContent = errorText(e); }
    finally { $("more").disabled = false; }
  }
  async function moreFrom(docId) {
    const s = state;
    try {
      const data = await getJSON(searchURL(s, 0, { doc: docId, k: "20" }));
      if (state !== s) return;
      const seen = new Set(results.items.map((r) => r.url));
      results.extra[docId] = data.results.filter((r) => !seen.has(r.url));
      renderResults();
      const items = document.querySelectorAll(`[data-group="${CSS.escape(docId)}"] .passage`);
      const first = items[Math.min(PER_GROUP, items.length - 1)];
      if (first) { first.tabIndex = -1; first.focus(); }
    } catch (e) { $("status").textContent = errorText(e); }
  }
  function groupsOf(items) {
    const groups = new Map();
    for (const r of items) {
      if (!groups.has(r.doc_id)) groups.set(r.doc_id, { doc_id: r.doc_id, title: r.title, items: [] });
      groups.get(r.doc_id).items.push(r);
    }
    return [...groups.values()];
  }
  function absolute(url) { return new URL(url, location.origin).href; }
  function passageHTML(r, extra) {
    const page = r.page ? ` · ${t("page")} ${r.page}` : "";
    const span = lastAnswer && lastAnswer.answer && spanFor(lastAnswer, r);
    return `<li class="passage${extra ? " extra" : ""}" data-url="${esc(r.url)}">` +
      `<p class="where">${esc(r.section || "")}${esc(page)}</p>` +
      `<p class="ptext">${highlight(r.text, results.terms, span)}</p>` +
      `<p class="actions"><a href="${esc(r.url)}" class="open">${esc(t("openDoc"))}</a>` +
      `<button type="button" class="link copy-link" data-url="${esc(r.url)}">${esc(t("copyLink"))}</button>` +
      `<button type="button" class="link copy-cite" data-url="${esc(r.url)}">${esc(t("cite"))}</button></p></li>`;
  }
  function renderResults() {
    const s = state;
    const res = results;
    $("results").hidden = false;
    const ol = $("groups");
    ol.replaceChildren();
    noteDocs(res.items);
    for (const extra of Object.values(res.extra)) noteDocs(extra);
    let groups = groupsOf(res.items);
    if (s.sort === "date") {
      const date = (g) => (docInfo.get(g.doc_id) || {}).date || "";
      groups = groups.slice().sort((a, b) => date(b).localeCompare(date(a)));
    }
    for (const g of groups) {
      const li = document.createElement("li");
      li.className = "group";
      li.dataset.group = g.doc_id;
      const info = docInfo.get(g.doc_id);
      const extra = res.extra[g.doc_id];
      // A document's best passages first; the rest of it on "more from this document".
      const shown = extra || s.doc ? g.items : g.items.slice(0, PER_GROUP);
      const hiddenN = g.items.length - shown.length;
      let html = `<h3><a href="${esc(g.items[0].url)}">${esc(g.title)}</a></h3>` +
        (info ? `<p class="where">${esc(docMeta(info))}</p>` : "") +
        `<ol class="passages">${shown.map((r) => passageHTML(r, false)).join("")}` +
        `${(extra || []).map((r) => passageHTML(r, true)).join("")}</ol>`;
      if (!s.doc && !extra) {
        const label = hiddenN ? t("moreFrom")(hiddenN) : t("moreFromPlain");
        html += `<button type="button" class="link more-from" data-doc="${esc(g.doc_id)}">${esc(label)}</button>`;
      }
      li.innerHTML = html;
      ol.appendChild(li);
    }
    $("more").hidden = res.next === null || res.next === undefined;
    $("results-h").textContent = res.total ? t("passages") : t("nearest");
    let status;
    if (!res.items.length) status = t("noMatch");
    else status = (res.total ? t("total")(res.total, res.totalDocs) : t("noneExact")) + " " + t("shown")(res.items.length, groups.length);
    $("status").textContent = status;
    $("clear").hidden = !unlocked(s.filters) && !s.doc;
    renderRestored();
  }
  // Each result carries its document's type, date, provinces and source URL.
  const docInfo = new Map();
  function noteDocs(items) {
    for (const r of items) {
      if (!docInfo.has(r.doc_id)) {
        docInfo.set(r.doc_id, { type: r.type, date: r.date, provinces: r.provinces || [], site: "", source_url: r.source_url,
          number: r.number || "", document_type: r.document_type || "", issuer: r.issuer || "" });
      }
    }
  }
  function renderRestored() {
    const box = $("restored");
    if (!results || !results.restored || state.exact) { box.hidden = true; return; }
    box.hidden = false;
    const exact = { ...state, exact: true };
    box.innerHTML = `${esc(t("restored"))} <strong>${esc(results.restored)}</strong>. ` +
      `${esc(t("asTyped"))} <a id="as-typed" href="${esc(stateURL(exact))}">${esc(state.q)}</a>`;
  }
  // The answer's own words in the passage it cites: the sentence it was taken from
  // (``evidence``) or its exact figure, date or name (``exact``), when the API gives them.
  function spanFor(res, passage) {
    const a = res.answer;
    const found = a && (a.evidence || a.exact || a.span);
    if (!found) return null;
    const text = typeof found === "string" ? found : found.text;
    const cited = res.passages.find((p) => a.citations.includes(p.n) && p.url === passage.url);
    return cited && text ? text : null;
  }
  function renderAnswer(res) {
    lastAnswer = res;
    const card = $("answer");
    card.hidden = false;
    const cites = $("citations");
    cites.replaceChildren();
    if (res.answer) {
      card.classList.remove("none");
      // [n] markers become links to the passage in its document.
      const cite = (text) => esc(text).replace(/\[(\d+)\]/g, (m, n) => {
        const p = res.passages.find((x) => x.n === Number(n));
        return p ? `<a class="cite" href="${esc(p.url)}" data-n="${n}">[${n}]</a>` : m;
      });
      const text = res.answer.text;
      const span = res.answer.exact_span;
      $("answer-text").innerHTML = Array.isArray(span) && span[1] > span[0] && span[1] <= text.length
        ? cite(text.slice(0, span[0])) + `<mark class="span">${cite(text.slice(span[0], span[1]))}</mark>` + cite(text.slice(span[1]))
        : cite(text);
      for (const n of res.answer.citations) {
        const p = res.passages.find((x) => x.n === n);
        if (!p) continue;
        const li = document.createElement("li");
        li.value = n;
        const page = p.page ? `, ${t("page")} ${p.page}` : "";
        li.innerHTML = `<a class="citation" href="${esc(p.url)}" data-n="${n}">${esc(p.title)}</a>` +
          `<span class="where"> — ${esc(p.section || "")}${esc(page)}</span>`;
        cites.appendChild(li);
      }
    } else {
      card.classList.add("none");
      $("answer-text").textContent = t("noAnswer");
    }
    if (results) renderResults();
  }
  async function runAsk(s) {
    const p = apiFilters(s);
    p.set("q", s.q);
    p.set("k", "5");
    p.set("lang", lang);
    try {
      const res = await getJSON(`/api/ask?${p}`);
      if (state === s) {
        renderAnswer(res);
        tell("result", { mode: "ask", query: s.q, filters: { ...s.filters }, answer: res.answer ? res.answer.text : null,
          passages: res.passages.length });
      }
    } catch (e) { if (state === s) { $("answer").hidden = true; } }
  }

  // --- views ------------------------------------------------------------------------------
  function show(view) {
    $("home-view").hidden = view !== "home";
    $("results-view").hidden = view !== "results";
    $("doc-view").hidden = view !== "doc";
    $("restored").hidden = view !== "results" || $("restored").hidden;
  }
  // ``ask``: also ask for the answer card (Enter, a shared link); typing shows passages only.
  async function showState(s, ask) {
    state = s;
    currentDoc = null;
    setControls(s);
    setTitle();
    if (inflight) inflight.abort();
    if (!s.q) {
      results = null; lastAnswer = null;
      show("home");
      $("restored").hidden = true;
      loadDocs(s, false);
      return;
    }
    show("results");
    if (!results || results.q !== s.q) { $("answer").hidden = true; lastAnswer = null; }
    $("status").textContent = t("searching");
    const controller = new AbortController();
    inflight = controller;
    loadFacets(s);
    if (ask && !s.exact) runAsk(s);
    try {
      await runSearch(s, controller.signal);
      if (results) results.q = s.q;
    } catch (e) {
      if (e.name === "AbortError") return;
      if (state !== s) return;
      $("results").hidden = true; $("answer").hidden = true;
      $("status").textContent = errorText(e);
    }
  }

  async function openDoc(docId, ordinal, push, url) {
    if (embed) { window.open(url, "_blank", "noopener"); return; }
    if (push) history.pushState({ fromResults: !!(state && state.q) }, "", url);
    show("doc");
    $("back").textContent = history.state && history.state.fromResults ? t("back") : t("home");
    $("status").textContent = t("loading");
    try {
      const doc = await getJSON(`/api/documents/${encodeURIComponent(docId)}`);
      currentDoc = doc;
      $("doc-title").textContent = doc.title;
      renderMeta(doc);
      setTitle();
      const body = $("doc-body");
      body.replaceChildren();
      const terms = results ? results.terms : [];
      let first = null;
      for (const b of doc.blocks) {
        let el;
        if (b.heading_level !== null && b.heading_level !== undefined) {
          if (b.heading_level === 0) continue;
          el = document.createElement(`h${Math.min(3 + b.heading_level - 1, 5)}`);
          el.textContent = b.text;
        } else {
          el = document.createElement("p");
          const cited = ordinal !== null && b.passages.includes(ordinal);
          el.innerHTML = cited ? highlight(b.text, terms, null) : esc(b.text);
          if (cited) {
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
      renderReferences(doc);
      loadCitedBy(docId);
    } catch (e) {
      $("status").textContent = errorText(e);
    }
  }
  function renderMeta(doc) {
    $("doc-meta").textContent = [typeLabel(doc.type), doc.date && `${t("date")}: ${doc.date}`, doc.provinces.join(", ")].filter(Boolean).join(" · ");
    const links = $("doc-links");
    const parts = [];
    if (doc.source_url) parts.push(`${esc(t("source"))}: <a href="${esc(doc.source_url)}" rel="noopener noreferrer" target="_blank">${esc(doc.source_url)}</a>`);
    else if (doc.source) parts.push(`${esc(t("source"))}: ${esc(doc.source)}`);
    if (doc.file_url) parts.push(`<a href="${esc(doc.file_url)}" download>${esc(t("download"))}</a>`);
    parts.push(`<button type="button" class="link copy-cite-doc">${esc(t("cite"))}</button>`);
    links.innerHTML = parts.join(" · ");
  }
  async function loadRelated(docId) {
    const box = $("related");
    try {
      const data = await getJSON(`/api/documents/${encodeURIComponent(docId)}/related?k=3&lang=${lang}`);
      const ul = $("related-list");
      ul.replaceChildren();
      for (const r of data.related) {
        const li = document.createElement("li");
        li.innerHTML = `<a href="/doc/${encodeURIComponent(r.doc_id)}">${esc(r.title)}</a>` +
          ` <span class="why">(${esc(r.why)})</span>`;
        ul.appendChild(li);
      }
      box.hidden = data.related.length === 0;
    } catch (e) { box.hidden = true; }
  }

  // A reference to a document of this index is a link to it; any other is its mention as written.
  function docItem(docId, text) {
    const li = document.createElement("li");
    li.innerHTML = docId ? `<a href="/doc/${encodeURIComponent(docId)}">${esc(text)}</a>` : esc(text);
    return li;
  }
  function renderReferences(doc) {
    const ul = $("refs-list");
    ul.replaceChildren();
    for (const r of doc.references || []) ul.appendChild(docItem(r.doc_id, r.text));
    $("refs").hidden = ul.children.length === 0;
  }
  async function loadCitedBy(docId) {
    const box = $("cited");
    try {
      const data = await getJSON(`/api/documents/${encodeURIComponent(docId)}/cited-by`);
      const ul = $("cited-list");
      ul.replaceChildren();
      for (const c of data.cited_by) ul.appendChild(docItem(c.doc_id, [c.number, c.title].filter(Boolean).join(" – ")));
      box.hidden = data.cited_by.length === 0;
    } catch (e) { box.hidden = true; }
  }

  // --- share and cite ---------------------------------------------------------------------
  function toast(text) {
    const el = $("toast");
    el.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.textContent = ""; }, 4000);
  }
  async function copy(text) {
    try { await navigator.clipboard.writeText(text); toast(t("copied")); }
    catch (e) { toast(t("copyFailed")); }
  }
  function citation(title, section, page, date, url, source) {
    const bits = [`“${title}”`];
    if (section) bits.push(section);
    if (page) bits.push(`${t("page")} ${page}`);
    if (date) bits.push(date);
    let out = bits.join(", ") + ". " + url;
    if (source && source !== url) out += ` (${t("source")}: ${source})`;
    return out;
  }
  function passageByURL(url) {
    const all = results ? results.items.concat(...Object.values(results.extra)) : [];
    return all.find((r) => r.url === url);
  }

  // --- events -----------------------------------------------------------------------------
  function go(s, ask, replace) {
    const url = stateURL(s);
    if (replace) history.replaceState({}, "", url); else history.pushState({}, "", url);
    showState(s, ask);
  }
  function route() {
    const m = location.pathname.match(/^\/doc\/([^/]+)$/);
    if (m) {
      const hm = location.hash.match(/^#p(\d+)$/);
      openDoc(decodeURIComponent(m[1]), hm ? Number(hm[1]) : null, false, location.pathname + location.hash);
      return;
    }
    const s = readURL();
    if (state && JSON.stringify(s) === JSON.stringify(state) && results) { show("results"); renderResults(); setTitle(); return; }
    showState(s, true);
  }

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button");
    if (btn) {
      if (btn.classList.contains("copy-link")) { copy(absolute(btn.dataset.url)); return; }
      if (btn.classList.contains("copy-cite")) {
        const r = passageByURL(btn.dataset.url);
        const info = r && docInfo.get(r.doc_id);
        if (r) copy(citation(r.title, r.section, r.page, info && info.date, absolute(r.url), info && info.source_url));
        return;
      }
      if (btn.classList.contains("copy-cite-doc") && currentDoc) {
        copy(citation(currentDoc.title, "", null, currentDoc.date, absolute(`/doc/${encodeURIComponent(currentDoc.doc_id)}`), currentDoc.source_url));
        return;
      }
      if (btn.classList.contains("more-from")) { moreFrom(btn.dataset.doc); return; }
    }
    const a = ev.target.closest("a");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0 || a.target === "_blank" || a.hasAttribute("download")) return;
    const href = a.getAttribute("href") || "";
    if (a.dataset.q !== undefined || a.id === "as-typed") {
      ev.preventDefault();
      const u = new URL(href, location.origin);
      history.pushState({}, "", u.pathname + u.search);
      showState(readURL(), true);
      return;
    }
    const m = href.match(/^\/doc\/([^/#?]+)(?:#p(\d+))?$/);
    if (!m) return;
    ev.preventDefault();
    openDoc(decodeURIComponent(m[1]), m[2] !== undefined ? Number(m[2]) : null, true, href);
  });
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearTimeout(debounce);
    const s = controlsState();
    // Enter in a filter box applies the filters, with or without a question.
    if (TEXT_FILTERS.some(([, id]) => document.activeElement === $(id))) {
      s.exact = state ? state.exact : false;
      // Its change event may have applied them already.
      if (!state || stateURL(s) !== stateURL(state)) go(s, !!s.q, false);
      return;
    }
    if (!s.q) { $("q-note").textContent = t("empty"); $("q").focus(); go(s, false, false); return; }
    $("q-note").textContent = "";
    go(s, true, false);
  });
  // Search as you type: debounced; a newer keystroke aborts the request in flight.
  $("q").addEventListener("input", () => {
    clearTimeout(debounce);
    const over = $("q").value.length >= $("q").maxLength && pasted;
    $("q-note").textContent = over ? t("cut")($("q").maxLength) : "";
    pasted = false;
    debounce = setTimeout(() => {
      const s = controlsState();
      if (s.q.length < 2 && s.q) return;
      if (state && s.q === state.q) return;
      go(s, false, true);
    }, DEBOUNCE_MS);
  });
  let pasted = false;
  $("q").addEventListener("paste", (ev) => {
    const text = (ev.clipboardData || window.clipboardData).getData("text");
    const el = $("q");
    const room = el.maxLength - (el.value.length - (el.selectionEnd - el.selectionStart));
    pasted = text.length > room;
  });
  for (const [, id] of FILTERS.concat([["sort", "f-sort"]])) {
    $(id).addEventListener("change", () => { const s = controlsState(); s.exact = state ? state.exact : false; go(s, !!(lastAnswer && s.q), false); });
  }
  $("clear").addEventListener("click", () => {
    const s = { ...controlsState(), filters: { ...LOCK }, doc: "" };
    go(s, !!(lastAnswer && s.q), false);
  });
  $("more").addEventListener("click", loadMore);
  $("docs-more").addEventListener("click", () => loadDocs(state, true));
  $("back").addEventListener("click", () => {
    if (history.state && history.state.fromResults) history.back();
    else { history.pushState({}, "", "/"); showState(readURL(), false); }
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

  // Inside an iframe: tell the host page our height so it can size the frame (embed-resize.js).
  if (embed && window.parent !== window) {
    let last = 0;
    const report = () => {
      // The body's own height: the document's scrollHeight never drops below the frame's.
      const h = Math.ceil(document.body.getBoundingClientRect().height);
      if (h !== last) { last = h; window.parent.postMessage({ type: "policy-search:height", height: h }, "*"); }
    };
    new ResizeObserver(report).observe(document.body);
    report();
  }

  // Filters fold away on a phone (opened when one is set); on a wide screen they stay open.
  if (window.matchMedia("(min-width: 40rem)").matches) $("filters-box").open = true;
  applyLang();
  route();
})();
