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
      scope: "Phạm vi", retryIn: (s) => `Hãy thử lại sau ${s} giây.`, skipResults: "Bỏ qua đến kết quả",
      hIssuer: "Cơ quan ban hành", hParent: "Cơ quan cấp trên", hNumber: "Số, ký hiệu", hType: "Loại văn bản",
      hPlaceDate: "Nơi, ngày ban hành", hSubject: "Trích yếu", hSigner: "Người ký", hBases: "Căn cứ",
      hRecipients: "Nơi nhận", headerCard: "Thông tin văn bản", outline: "Mục lục",
      partOf: (n, m, a, b, total) => `Phần ${n} / ${m} · đã hiện đoạn 1–${b} trong ${total}`,
      nextPart: "Tải phần tiếp theo", docEnd: (total) => `Đã hiện hết ${total} đoạn của văn bản.`,
      noPassage: (n) => `Văn bản này không có đoạn #p${n}; đang hiện từ đầu văn bản.`,
      noSignature: "Văn bản này không có phần chữ ký; đang hiện từ đầu văn bản.", signatureBlock: "Phần chữ ký",
      confidence: "Độ tin cậy", sure: "chắc chắn", maybe: "có thể", unsure: "không chắc",
      confTitle: (p) => `Ước lượng xác suất câu trả lời đúng: ${p}%`, citedPassages: "Đoạn được trích dẫn",
      reversedDates: "“Từ ngày” đang sau “Đến ngày”: hãy đổi lại khoảng ngày.",
      showBy: "Hiện theo", byPassage: "Đoạn văn", byDocument: "Văn bản", pagerLabel: "Trang kết quả",
      prevDocs: "← Trang trước", nextDocs: "Trang sau →", documentsTitle: "Các văn bản liên quan",
      docRange: (a, b, n) => `${a}–${b} trong ${n} văn bản`, chipsLabel: "Bộ lọc đang dùng",
      removeChip: (v) => `Bỏ lọc ${v}`, whoDoesWhat: "Ai làm gì", tLead: "Chủ trì", tPartners: "Phối hợp",
      tDeadline: "Thời hạn", tTask: "Nhiệm vụ", findInDoc: "Tìm trong văn bản", find: "Tìm",
      findNext: "Chỗ tiếp theo", findCount: (i, n) => `Chỗ ${i} / ${n}`, findNone: "Không thấy trong văn bản.",
      findLoading: "Đang tải cả văn bản…",
      // The page's own wording; every other code from the shared table (messages.js).
      err: {
        bad_query: "Câu hỏi không dùng được.", query_too_long: "Câu hỏi quá dài.",
        bad_filter: "Câu hỏi hoặc bộ lọc không dùng được; hãy xem lại số hiệu, cơ quan ban hành hoặc ngày.",
        not_found: "Không tìm thấy văn bản này.",
        unauthorized: "Dịch vụ cần khóa truy cập.", forbidden: "Khóa không có quyền này.",
        busy: "Máy chủ đang bận; hãy thử lại sau.",
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
      scope: "Scope", retryIn: (s) => `Try again in ${s} s.`, skipResults: "Skip to results",
      hIssuer: "Issuing body", hParent: "Parent body", hNumber: "Number", hType: "Document type",
      hPlaceDate: "Place and date", hSubject: "Subject", hSigner: "Signed by", hBases: "Legal bases",
      hRecipients: "Recipients", headerCard: "About this document", outline: "Outline",
      partOf: (n, m, a, b, total) => `Part ${n} of ${m} · paragraphs 1–${b} of ${total} shown`,
      nextPart: "Load the next part", docEnd: (total) => `All ${total} paragraphs of the document are shown.`,
      noPassage: (n) => `This document has no passage #p${n}; showing it from the start.`,
      noSignature: "This document has no signature block; showing it from the start.", signatureBlock: "Signature block",
      confidence: "Confidence", sure: "sure", maybe: "likely", unsure: "unsure",
      confTitle: (p) => `Estimated probability that the answer is right: ${p}%`, citedPassages: "Cited passages",
      reversedDates: "“From date” is after “To date”: swap the dates.",
      showBy: "Show", byPassage: "Passages", byDocument: "Documents", pagerLabel: "Result pages",
      prevDocs: "← Previous page", nextDocs: "Next page →", documentsTitle: "Matching documents",
      docRange: (a, b, n) => `${a}–${b} of ${n} documents`, chipsLabel: "Filters in use",
      removeChip: (v) => `Remove filter ${v}`, whoDoesWhat: "Who does what", tLead: "Lead", tPartners: "Partners",
      tDeadline: "Deadline", tTask: "Task", findInDoc: "Find in this document", find: "Find",
      findNext: "Next match", findCount: (i, n) => `Match ${i} of ${n}`, findNone: "Not found in this document.",
      findLoading: "Loading the whole document…",
      err: {
        bad_query: "The question cannot be used.", query_too_long: "The question is too long.",
        bad_filter: "The question or a filter cannot be used; check the number, issuing body or dates.",
        not_found: "This document was not found.",
        unauthorized: "This service needs an access key.", forbidden: "This key may not do that.",
        busy: "The server is busy; try again later.",
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
  // Filters that take several values (the API's province=A&province=B: any of them). Their
  // menu adds a value (or takes a chosen one off); each value is a chip.
  const MULTI = ["type", "province", "year", "document_type"];
  const vals = (v) => (Array.isArray(v) ? v : v ? [v] : []);
  function setParam(p, k, v) { for (const x of vals(v)) p.append(k, x); }
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
  const wide = () => window.matchMedia("(min-width: 40rem)").matches;

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
  // ``text``, whole words only. An accented phrase matches only with the same marks ("thải"
  // never marks "thái"); a folded one matches any marks. When the query has phrases of
  // several words, only those are marked: a Vietnamese word is mostly two syllables, and one
  // syllable of the query alone marks another word ("Chính" of "Chính phủ" for "Sở Tài
  // chính"). A lone word is marked when the query is one word, or when it is a number or a
  // code ("2820", "QĐ-UBND"). ``span``: the answer's exact text, marked on its own.
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
    for (const p of multi) find(p, 1);
    for (const p of phrases.filter((x) => !/\s/.test(x.trim()))) {
      if (!multi.length || /\d/.test(p)) find(p, 1);
    }
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
    const M = window.PSMessages;
    let text = msgs[e.code] || M.error(e.code, lang) || `${M.error("other", lang)} (${e.code || e.status || "?"}).`;
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
    for (const [k] of FILTERS) {
      if (MULTI.includes(k)) { const all = [...new Set(p.getAll(k).filter(Boolean))]; if (all.length) filters[k] = all; }
      else if (p.get(k)) filters[k] = p.get(k);
    }
    Object.assign(filters, LOCK);
    // Results by document (group=document) page by offset, a multiple of PAGE.
    const group = p.get("group") === "document" ? "document" : "";
    const offset = group ? Math.max(0, Math.floor((Number(p.get("offset")) || 0) / PAGE) * PAGE) : 0;
    return { q: (p.get("q") || "").trim(), filters, sort: p.get("sort") || "", exact: p.get("exact") === "1", doc: p.get("doc") || "",
      group, offset };
  }
  function stateURL(s) {
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    for (const [k] of FILTERS) setParam(p, k, s.filters[k]);
    if (s.doc) p.set("doc", s.doc);
    if (s.sort) p.set("sort", s.sort);
    if (s.exact) p.set("exact", "1");
    if (s.group) p.set("group", s.group);
    if (s.group && s.offset) p.set("offset", String(s.offset));
    if (embed) p.set("lang", lang);
    if (lockParam) p.set("lock", lockParam);
    const qs = p.toString();
    return (embed ? "/embed" : "/") + (qs ? `?${qs}` : "");
  }
  function controlsState() {
    const filters = {};
    for (const [k, id] of FILTERS) {
      const v = $(id).value.trim();
      if (MULTI.includes(k)) {
        // The menu shows the one value chosen, or "all" when there are none or several
        // (menuValue): read so, an unchanged menu keeps them; "all" on one clears it,
        // a new value is added, a ticked one (of several) taken off.
        const had = vals(state && state.filters[k]);
        let all;
        if (!v) all = had.length > 1 ? had : [];
        else if (had.includes(v)) all = had.length > 1 ? had.filter((x) => x !== v) : had;
        else all = had.concat([v]);
        if (all.length) filters[k] = all;
      } else if (v) filters[k] = v;
    }
    Object.assign(filters, LOCK);
    const sort = $("f-sort").value;
    return { q: $("q").value.trim(), filters, sort, exact: false, doc: state ? state.doc : "", group: state ? state.group : "", offset: 0 };
  }
  function setControls(s) {
    $("q").value = s.q;
    for (const [k, id] of FACET_FILTERS) ensureOption($(id), menuValue(k, s.filters[k]));
    for (const [k, id] of TEXT_FILTERS) $(id).value = dateBox(k, s.filters[k] || "");
    // One menu, two lists: results sort by relevance (default) or date; the collection
    // without a query by date (default) or title.
    // The menu is rebuilt with only its list's options: a hidden <option> still shows in
    // some browsers' menus ("Mới nhất" twice).
    const sort = $("f-sort");
    const opts = s.q ? [["", "byRelevance"], ["date", "byDate"]] : [["", "byDate"], ["title", "byTitle"]];
    sort.replaceChildren(...opts.map(([v, k]) => { const o = document.createElement("option"); o.value = v; o.textContent = t(k); return o; }));
    sort.value = (s.q ? s.sort === "date" : s.sort === "title") ? s.sort : "";
    const active = unlocked(s.filters) + (s.doc ? 1 : 0);
    $("filters-count").textContent = active ? ` (${active})` : "";
    // Opened for a set filter on a wide screen only: on a phone the open box pushed the
    // answer a screen down; its summary says how many are set.
    if (active && wide()) $("filters-box").open = true;
    const chip = $("doc-filter");
    chip.hidden = !s.doc;
    if (s.doc) chip.textContent = t("onlyDoc")(s.doc);
    $("clear").hidden = !unlocked(s.filters) && !s.doc;
    for (const r of document.querySelectorAll('input[name="mode"]')) r.checked = r.value === (s.group || "");
    renderChips(s);
  }
  // One chip per filter in use: a click removes that one filter, the others stay.
  function renderChips(s) {
    const ul = $("chips");
    ul.replaceChildren();
    ul.setAttribute("aria-label", t("chipsLabel"));
    for (const [k, id] of FILTERS) {
      if (k in LOCK) continue;
      for (const v of vals(s.filters[k])) {
        const label = k === "type" ? typeLabel(v) : k === "source" && v === "none" ? t("noSite") : v;
        const name = $(id).closest("label").querySelector("span").textContent;
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button"; b.className = "chip remove-chip"; b.dataset.filter = k; b.dataset.value = v;
        b.setAttribute("aria-label", t("removeChip")(`${name}: ${label}`));
        b.innerHTML = `${esc(name)}: ${esc(label)} <span aria-hidden="true">×</span>`;
        li.appendChild(b);
        ul.appendChild(li);
      }
    }
    ul.hidden = !ul.children.length;
  }
  function menuValue(k, v) {
    if (!MULTI.includes(k)) return v || "";
    const all = vals(v);
    return all.length === 1 ? all[0] : "";
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
  function reversedDates(s) {
    const from = s.filters.date_from, to = s.filters.date_to;
    return !!(from && to && dateBox("date_from", from) > dateBox("date_to", to));
  }
  function ensureOption(sel, value) {
    if (value && ![...sel.options].some((o) => o.value === value)) {
      const o = document.createElement("option"); o.value = value; o.textContent = value; sel.appendChild(o);
    }
    sel.value = value;
  }
  function apiFilters(s) {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) if (k !== "source") setParam(p, k, s.filters[k]);
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
  // ``keys``: the menus to rebuild (all when absent). With a query, the menus count the
  // documents of its hits (/api/search's facets); "source", which it does not count, keeps
  // the collection's counts.
  function renderFacets(facets, keys) {
    if (!facets) return;
    lastFacets = { ...(lastFacets || {}), ...facets };
    const label = { type: typeLabel, province: (v) => v, year: (v) => v, source: (v) => (v === "none" ? t("noSite") : v), document_type: (v) => v };
    for (const [k, id] of FACET_FILTERS) {
      if (keys && !keys.includes(k)) continue;
      const chosen = MULTI.includes(k) ? vals(state && state.filters[k]) : [];
      const sel = $(id), current = menuValue(k, state && state.filters[k]);
      const counts = facets[k] || {};
      let values = Object.keys(counts);
      if (k === "year") values.sort().reverse(); else if (k !== "type") values.sort((a, b) => a.localeCompare(b, "vi"));
      if (k === "type") values = values.filter((v) => v !== "unknown");
      sel.replaceChildren();
      const all = document.createElement("option"); all.value = ""; all.textContent = t("all"); sel.appendChild(all);
      for (const v of values) {
        // A value already chosen is ticked; choosing it again takes it off.
        const o = document.createElement("option"); o.value = v;
        o.textContent = `${chosen.includes(v) ? "✓ " : ""}${label[k](v)} (${counts[v]})`; sel.appendChild(o);
      }
      ensureOption(sel, current);
    }
  }
  const QUERY_FACETS = ["type", "province", "year", "document_type"];
  // A menu that takes several values counts the query's hits under the other filters, not
  // its own: with "Trà Vinh" chosen, "Lào Cai" is still offered, with its count.
  async function otherChoices(s) {
    for (const k of MULTI) {
      if (!vals(s.filters[k]).length || k in LOCK) continue;
      const filters = { ...s.filters };
      delete filters[k];
      try {
        const data = await getJSON(searchURL({ ...s, filters }, 0, { k: "1" }));
        if (state === s) renderFacets({ [k]: data.facets[k] || {} }, [k]);
      } catch (e) { /* the menu keeps the counts it has */ }
    }
  }
  async function loadFacets(s, keys) {
    const p = new URLSearchParams();
    for (const [k] of FILTERS) setParam(p, k, s.filters[k]);
    p.set("limit", "1");
    try { renderFacets((await getJSON(`/api/documents?${p}`)).facets, keys); } catch (e) { /* menus keep what they had */ }
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
    for (const [k] of FILTERS) setParam(p, k, s.filters[k]);
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
    } catch (e) {
      if (state !== s) return;
      docsPage = null;
      $("doc-list").replaceChildren(); $("docs-count").textContent = ""; $("docs-more").hidden = true;
      $("status").textContent = errorText(e);
    }
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
    // "Newest first" orders the query's hits themselves (in both modes): pages stay slices
    // of one list.
    if (s.sort === "date") p.set("sort", "date");
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return `/api/search?${p}`;
  }
  async function runSearch(s, signal) {
    const doc = s.group === "document" && !s.doc;
    const data = await getJSON(doc ? searchURL(s, s.offset, { group: "document" }) : searchURL(s, 0), signal);
    if (state !== s) return;
    renderFacets(data.facets, QUERY_FACETS);
    otherChoices(s);
    if (doc) {
      results = {
        mode: "document", docs: data.documents || [], items: data.results.map((r) => ({ ...r })), offset: data.offset,
        total: data.total, next: data.next_offset, restored: data.restored, terms: data.highlight || [], kind: data.kind, extra: {},
      };
      renderResults();
      tell("result", { mode: "search", group: "document", query: s.q, filters: { ...s.filters }, offset: data.offset,
        total: data.total, results: results.docs.length, next_offset: data.next_offset });
      return;
    }
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
      `<p class="ptext">${highlight(span ? r.text : cropToMatch(r.text, results.terms, SNIPPET), results.terms, span)}</p>` +
      `<p class="actions"><a href="${esc(r.url)}" class="open">${esc(t("openDoc"))}</a>` +
      `<button type="button" class="link copy-link" data-url="${esc(r.url)}">${esc(t("copyLink"))}</button>` +
      `<button type="button" class="link copy-cite" data-url="${esc(r.url)}">${esc(t("cite"))}</button></p></li>`;
  }
  // Results by document: one page of documents, each with its best passages, its number,
  // issuer and provinces; "11–20 of 81 documents"; pages move by offset (in the URL).
  function renderDocResults() {
    const s = state, res = results;
    const ol = $("groups");
    ol.replaceChildren();
    ol.start = res.offset + 1;
    noteDocs(res.items);
    for (const d of res.docs) {
      const li = document.createElement("li");
      li.className = "group doc-hit";
      li.dataset.group = d.doc_id;
      const href = d.passages.length ? d.passages[0].url : `/doc/${encodeURIComponent(d.doc_id)}`;
      li.innerHTML = `<h3><a href="${esc(href)}">${esc(d.title)}</a></h3>` +
        `<p class="where doc-facts">${esc(docMeta(d))}</p>` +
        `<ol class="passages">${d.passages.map((r) => passageHTML(r, false)).join("")}</ol>`;
      ol.appendChild(li);
    }
    $("more").hidden = true;
    $("doc-pager").hidden = res.offset === 0 && (res.next === null || res.next === undefined);
    $("prev-docs").hidden = res.offset === 0;
    $("next-docs").hidden = res.next === null || res.next === undefined;
    $("results-h").textContent = t("documentsTitle");
    $("status").textContent = res.docs.length ? t("docRange")(res.offset + 1, res.offset + res.docs.length, res.total) : t("noMatch");
    $("clear").hidden = !unlocked(s.filters) && !s.doc;
    renderRestored();
  }
  function renderResults() {
    const s = state;
    const res = results;
    $("results").hidden = false;
    $("mode").hidden = !!s.doc;
    if (res.mode === "document") { renderDocResults(); return; }
    $("doc-pager").hidden = true;
    $("groups").removeAttribute("start");
    const ol = $("groups");
    // Rendered again when the answer arrives: the keyboard's place in the list is kept.
    const focusables = () => [...ol.querySelectorAll("a, button, [tabindex]")];
    const focusedAt = ol.contains(document.activeElement) ? focusables().indexOf(document.activeElement) : -1;
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
    if (focusedAt >= 0) { const el = focusables()[focusedAt]; if (el) el.focus({ preventScroll: true }); }
    $("more").hidden = res.next === null || res.next === undefined;
    // An English question is matched by meaning: "no passage contains every word" (of
    // the English words) said nothing about it, above an answer that may be sure.
    const english = res.kind === "en";
    $("results-h").textContent = res.total || english ? t("passages") : t("nearest");
    let status;
    if (!res.items.length) status = t("noMatch");
    else if (english && !res.total) status = t("shown")(res.items.length, groups.length);
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
  // How sure the answer is, in words; the number on hover. The API's calibrated threshold
  // (below it there is no answer) separates "unsure" from "likely"; "sure" starts halfway
  // from the threshold to 1 (0.8 for the shipped threshold 0.6).
  function confidenceWord(conf, threshold) {
    const th = typeof threshold === "number" && threshold > 0 ? threshold : 0.6;
    if (conf >= th + (1 - th) / 2) return "sure";
    return conf >= th ? "maybe" : "unsure";
  }
  // A document named as officials name it: type and number, issuer, province; its title
  // when it has no number.
  function docName(info, fallback) {
    if (!info) return fallback || "";
    const official = info.number ? [info.document_type, info.number].filter(Boolean).join(" ") : "";
    // A national text names many provinces: the first three, and how many more.
    const prov = info.provinces || [];
    const where = prov.length > 3 ? `${prov.slice(0, 3).join(", ")} +${prov.length - 3}` : prov.join(", ");
    return [official || info.title || fallback, info.issuer, where].filter(Boolean).join(" · ");
  }
  // The documents an answer cites that no search result described: their header, once.
  const docAsked = new Set();
  async function describeDocs(ids) {
    const missing = [...new Set(ids)].filter((id) => id && !docInfo.has(id) && !docAsked.has(id)).slice(0, 20);
    if (!missing.length) return false;
    missing.forEach((id) => docAsked.add(id));
    await Promise.all(missing.map(async (id) => {
      try {
        const d = await getJSON(docURL(id, "limit=1"));
        docInfo.set(id, { type: d.type, date: d.date, provinces: d.provinces || [], site: d.site || "", source_url: d.source_url,
          number: d.number || "", document_type: d.document_type || "", issuer: d.issuer || "", title: d.title });
      } catch (e) { /* named by its title */ }
    }));
    return true;
  }
  // A result's passage cropped around its first match (Meilisearch's cropping): a long
  // passage shows where the query's words are, not only its opening. The whole passage is
  // one click away (its document); a passage the answer quotes is shown whole.
  const SNIPPET = 480;
  function cropToMatch(text, phrases, size) {
    if (text.length <= size) return text;
    const folded = fold(text);
    let at = -1, best = "";
    for (const p of [...phrases].sort((a, b) => b.length - a.length)) {
      const i = folded.indexOf(fold(p));
      if (i >= 0 && (at < 0 || i < at)) { at = i; best = p; }
    }
    return cropAround(text, at >= 0 ? best : "", size);
  }
  // A passage cropped around the words the answer took from it (else its opening).
  function cropAround(text, needle, size) {
    if (text.length <= size) return text;
    const at = needle ? fold(text).indexOf(fold(needle).slice(0, 40)) : -1;
    let from = at > size / 3 ? at - Math.floor(size / 3) : 0;
    from = from ? text.lastIndexOf(" ", from) + 1 : 0;
    let to = Math.min(text.length, from + size);
    if (to < text.length) to = Math.max(text.lastIndexOf(" ", to), from + 1);
    return (from ? "… " : "") + text.slice(from, to) + (to < text.length ? " …" : "");
  }
  function renderAnswer(res) {
    lastAnswer = res;
    const card = $("answer");
    card.hidden = false;
    const cites = $("citations");
    cites.replaceChildren();
    const conf = $("answer-conf");
    conf.hidden = true;
    if (res.answer) {
      card.classList.remove("none");
      const a = res.answer;
      const value = typeof a.confidence === "number" ? a.confidence : res.confidence;
      if (typeof value === "number") {
        const word = confidenceWord(value, res.threshold);
        conf.hidden = false;
        conf.innerHTML = `${esc(t("confidence"))}: <span class="conf-word conf-${word}" data-confidence="${value}" ` +
          `title="${esc(t("confTitle")(Math.round(value * 100)))}">${esc(t(word))}</span>`;
      }
      // [n] markers become links to the passage in its document.
      const cite = (text) => esc(text).replace(/\[(\d+)\]/g, (m, n) => {
        const p = res.passages.find((x) => x.n === Number(n));
        return p ? `<a class="cite" href="${esc(p.url)}" data-n="${n}">[${n}]</a>` : m;
      });
      const text = a.text;
      const span = a.exact_span;
      const items = a.items || [];
      if (a.type === "set" && items.length && items.every((i) => i.doc_id)) {
        // A list of documents: each named by its number, issuer and province, its title under it.
        $("answer-text").innerHTML = `<ul class="answer-items">${items.map((i) => {
          const info = docInfo.get(i.doc_id);
          const p = res.passages.find((x) => x.n === i.citations[0]);
          const name = docName(info, i.text);
          const href = p ? p.url : `/doc/${encodeURIComponent(i.doc_id)}`;
          return `<li><a class="item-doc" href="${esc(href)}">${esc(name)}</a>` +
            (name !== i.text ? `<span class="item-title">${esc(i.text)}</span>` : "") +
            i.citations.map((n) => ` ${cite(`[${n}]`)}`).join("") + "</li>";
        }).join("")}</ul>`;
      } else {
        $("answer-text").innerHTML = Array.isArray(span) && span[1] > span[0] && span[1] <= text.length
          ? cite(text.slice(0, span[0])) + `<mark class="span">${cite(text.slice(span[0], span[1]))}</mark>` + cite(text.slice(span[1]))
          : cite(text);
      }
      // The cited passages themselves, under the answer: what it rests on is read here,
      // whether or not the ranked list below holds them.
      const evidence = a.evidence || a.exact || null;
      for (const n of a.citations) {
        const p = res.passages.find((x) => x.n === n);
        if (!p) continue;
        const li = document.createElement("li");
        li.value = n;
        li.className = "cited-passage";
        const where = [p.section, p.page ? `${t("page")} ${p.page}` : ""].filter(Boolean).join(", ");
        const name = docName(docInfo.get(p.doc_id), p.title);
        li.innerHTML = `<a class="citation" href="${esc(p.url)}" data-n="${n}">${esc(name)}</a>` +
          (where ? `<span class="where"> — ${esc(where)}</span>` : "") +
          `<blockquote class="cited-text">${highlight(cropAround(p.text, evidence, 420), results ? results.terms : [], evidence)}</blockquote>`;
        cites.appendChild(li);
      }
      $("citations-h").hidden = !cites.children.length;
      const ids = items.map((i) => i.doc_id).concat(res.passages.filter((p) => a.citations.includes(p.n)).map((p) => p.doc_id));
      describeDocs(ids).then((asked) => { if (asked && lastAnswer === res) renderAnswer(res); });
    } else {
      card.classList.add("none");
      $("answer-text").textContent = t("noAnswer");
      $("citations-h").hidden = true;
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
    $("skip-results").hidden = view !== "results";
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
    if (reversedDates(s)) {
      // Said as such, and no list of the previous filters left under it.
      results = null; lastAnswer = null; docsPage = null;
      show(s.q ? "results" : "home");
      $("results").hidden = true; $("answer").hidden = true;
      $("doc-list").replaceChildren(); $("docs-count").textContent = ""; $("docs-more").hidden = true;
      $("status").textContent = t("reversedDates");
      return;
    }
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
    loadFacets(s, ["source"]);
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

  // A document is read in parts (GET /api/documents/{id}?start=): the first part opens,
  // the next loads when the reader nears the end (or presses the button under the text).
  // ``docRead``: {docId, hi (blocks shown), total, parts, more, ordinal, loading}.
  let docRead = null;
  const MAX_PARTS = 400; // bounds the loop that reaches a cited passage far into a document
  const docURL = (docId, q) => `/api/documents/${encodeURIComponent(docId)}${q ? `?${q}` : ""}`;
  async function openDoc(docId, ordinal, push, url) {
    if (embed) { window.open(url, "_blank", "noopener"); return; }
    if (push) history.pushState({ fromResults: !!(state && state.q) }, "", url);
    show("doc");
    $("back").textContent = history.state && history.state.fromResults ? t("back") : t("home");
    $("status").textContent = t("loading");
    $("doc-notice").hidden = true;
    try {
      // Where the cited passage is: the part that holds it, or a 404 when the document
      // has no such passage (a link from an older version of the index).
      let target = null;
      if (typeof ordinal === "number") {
        try { target = (await getJSON(docURL(docId, `passage=${ordinal}&limit=1`))).part.start; }
        catch (e) { if (e.status !== 404) throw e; }
      }
      const doc = await getJSON(docURL(docId));
      currentDoc = doc;
      $("doc-title").textContent = doc.title;
      renderMeta(doc);
      setTitle();
      $("doc-body").replaceChildren();
      $("outline-list").replaceChildren();
      $("doc-tasks").hidden = true;
      $("doc-tasks-table").tBodies[0].replaceChildren();
      $("doc-find-q").value = ""; $("doc-find-note").textContent = ""; $("doc-find-next").hidden = true;
      const read = { docId, hi: 0, total: doc.part.total_blocks, parts: 0, more: true, ordinal: typeof ordinal === "number" ? ordinal : null,
        pending: null, failed: false,
        tasks: new Set(), find: "" };
      docRead = read;
      renderOutline(read, doc.outline);
      appendPart(read, doc);
      // An answer citing the signature links to #signature: the signature block of the text.
      if (ordinal === "signature") target = doc.signature ?? null;
      // The cited passage is in a later part: the parts before it load too, so the text
      // above it reads on.
      while (target !== null && read.more && !read.failed && read.hi <= target + 3 && read.parts < MAX_PARTS && docRead === read) {
        await loadNextPart(read);
      }
      if (docRead !== read) return;
      $("status").textContent = "";
      const signed = ordinal === "signature";
      const first = signed ? (target !== null ? $(`b${target}`) : null) : $("doc-body").querySelector(".cited");
      if (ordinal !== null && !first) {
        $("doc-notice").textContent = signed ? t("noSignature") : t("noPassage")(ordinal);
        $("doc-notice").hidden = false;
      }
      if (first && signed) { first.classList.add("cited", "signature"); first.setAttribute("aria-label", t("signatureBlock")); }
      else if (first) first.id = `p${ordinal}`;
      if (first) { first.tabIndex = -1; first.scrollIntoView({ block: "center" }); first.focus({ preventScroll: true }); }
      else { window.scrollTo(0, 0); $("doc-title").tabIndex = -1; $("doc-title").focus(); }
      loadRelated(docId);
      renderReferences(doc);
      loadCitedBy(docId);
    } catch (e) {
      $("status").textContent = errorText(e);
    }
  }
  // One request at a time: a second caller waits for the part in flight.
  function loadNextPart(read) {
    if (!read.more || read.failed) return Promise.resolve();
    if (read.pending) return read.pending;
    $("doc-next").disabled = true;
    read.pending = (async () => {
      try {
        const part = await getJSON(docURL(read.docId, `start=${read.hi}`));
        if (docRead === read) appendPart(read, part);
      } catch (e) {
        // Not retried by itself (the button retries): a failing server is not hammered.
        read.failed = true;
        if (docRead === read) $("status").textContent = errorText(e);
      } finally {
        read.pending = null;
        $("doc-next").disabled = false;
      }
    })();
    return read.pending;
  }
  const nearEnd = () => !$("doc-view").hidden && !$("doc-next").hidden &&
    $("doc-next").getBoundingClientRect().top < window.innerHeight + 600;
  // Parts load while the end of the text is near the screen (a short part may leave it there).
  async function fillView(read) {
    for (let i = 0; i < MAX_PARTS && docRead === read && read.more && !read.failed && nearEnd(); i++) {
      await loadNextPart(read);
    }
  }
  // The outline of the whole document comes with its first part (the API's ``outline``:
  // headings, and the lines opening a Phần, Chương, Mục or Điều), so its links work before
  // the part holding them is loaded: a click loads the parts up to it.
  function renderOutline(read, entries) {
    $("outline-list").replaceChildren();
    for (const e of entries || []) outlineEntry(e.text, e.level, `b${e.block}`);
    const n = $("outline-list").children.length;
    $("doc-outline").hidden = n < 2;
    $("outline-count").textContent = n ? `(${n})` : "";
    if (n >= 2 && wide() && !read.outlineSet) { $("doc-outline").open = true; read.outlineSet = true; }
  }
  // The parts up to block ``n`` (bounded), then that block, or null.
  async function loadThrough(read, n) {
    for (let i = 0; i < MAX_PARTS && docRead === read && read.more && !read.failed && read.hi <= n; i++) await loadNextPart(read);
    return docRead === read ? $(`b${n}`) : null;
  }
  function outlineEntry(text, level, id) {
    const li = document.createElement("li");
    li.className = `lv${Math.min(level, 4)}`;
    const label = text.length > 100 ? `${text.slice(0, text.lastIndexOf(" ", 100) > 40 ? text.lastIndexOf(" ", 100) : 100)}…` : text;
    li.innerHTML = `<a class="outline-link" href="#${id}">${esc(label)}</a>`;
    $("outline-list").appendChild(li);
  }
  function appendPart(read, part) {
    const body = $("doc-body");
    const terms = results ? results.terms : [];
    const frag = document.createDocumentFragment();
    part.blocks.forEach((b, i) => {
      const idx = part.part.start + i;
      let el;
      const text = String(b.text).normalize("NFC");
      if (b.heading_level !== null && b.heading_level !== undefined) {
        if (b.heading_level === 0) return;
        el = document.createElement(`h${Math.min(3 + b.heading_level - 1, 5)}`);
        el.textContent = text;
      } else {
        el = document.createElement("p");
        const cited = read.ordinal !== null && b.passages.includes(read.ordinal);
        el.innerHTML = cited ? highlight(text, terms, null) : esc(text);
        if (cited) {
          el.classList.add("cited");
          el.setAttribute("aria-label", t("citedPassage"));
        }
      }
      el.id = `b${idx}`;
      el.dataset.block = String(idx);
      frag.appendChild(el);
    });
    body.appendChild(frag);
    addTasks(read, part.assignments || []);
    read.hi = part.part.end;
    read.total = part.part.total_blocks;
    read.more = part.part.more;
    read.parts += 1;
    renderPartNotice(read);
  }
  // "Who does what": the document's assignments, one row per task (its lead, partners,
  // deadline), gathered part by part; a task links to the passage stating it.
  function addTasks(read, assignments) {
    const tbody = $("doc-tasks-table").tBodies[0];
    for (const a of assignments) {
      const lead = a.lead || (a.role === "lead" ? a.agency : "");
      const task = a.task || a.text;
      const key = JSON.stringify([lead, task, a.deadline]);
      if (!task || read.tasks.has(key)) continue;
      read.tasks.add(key);
      const tr = document.createElement("tr");
      const partners = (a.partners || []).join("; ") || (a.role !== "lead" && !a.lead ? a.agency : "");
      const href = a.passage !== null && a.passage !== undefined ? `/doc/${encodeURIComponent(read.docId)}#p${a.passage}` : "";
      tr.innerHTML = `<td class="t-lead">${esc(lead)}</td><td class="t-partners">${esc(partners)}</td>` +
        `<td class="t-deadline">${esc(a.deadline || "")}</td>` +
        `<td class="t-task">${href ? `<a href="${esc(href)}">${esc(task)}</a>` : esc(task)}</td>`;
      tbody.appendChild(tr);
    }
    $("doc-tasks").hidden = !tbody.children.length;
  }
  // Search inside the document: every part is loaded (bounded), then each block's matches
  // are marked (the page's highlight rules, whole words, tones kept when typed); "next"
  // moves through them. An empty box restores the text as it was.
  async function findInDoc(read, needle) {
    read.find = needle;
    const note = $("doc-find-note");
    if (needle && read.more) {
      note.textContent = t("findLoading");
      for (let i = 0; i < MAX_PARTS && docRead === read && read.more && !read.failed; i++) await loadNextPart(read);
      if (docRead !== read || read.find !== needle) return;
    }
    const terms = results ? results.terms : [];
    for (const el of $("doc-body").children) {
      const text = el.textContent;
      if (needle) el.innerHTML = highlight(text, [needle], null);
      else el.innerHTML = el.classList.contains("cited") ? highlight(text, terms, null) : esc(text);
    }
    const marks = [...$("doc-body").querySelectorAll("mark")];
    marks.forEach((m) => m.classList.add("find"));
    read.marks = needle ? marks : [];
    read.at = -1;
    $("doc-find-next").hidden = read.marks.length < 2;
    if (!needle) { note.textContent = ""; return; }
    if (!marks.length) { note.textContent = t("findNone"); return; }
    nextFind(read);
  }
  function nextFind(read) {
    if (!read.marks || !read.marks.length) return;
    const old = read.marks[read.at];
    if (old) old.classList.remove("find-current");
    read.at = (read.at + 1) % read.marks.length;
    const m = read.marks[read.at];
    m.classList.add("find-current");
    m.scrollIntoView({ block: "center" });
    $("doc-find-note").textContent = t("findCount")(read.at + 1, read.marks.length);
  }
  function renderPartNotice(read) {
    const box = $("doc-part");
    // Parts end where a size cap is reached, so how many remain is estimated from the
    // blocks per part so far.
    const per = read.hi / read.parts;
    const m = read.more ? read.parts + Math.max(1, Math.ceil((read.total - read.hi) / Math.max(per, 1))) : read.parts;
    if (read.parts === 1 && !read.more) { box.hidden = true; $("doc-next").hidden = true; return; }
    box.hidden = false;
    box.textContent = read.more ? t("partOf")(read.parts, m, 1, read.hi, read.total) : t("docEnd")(read.total);
    $("doc-next").hidden = !read.more;
  }
  // Near the end of what is shown, the next part loads by itself.
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && docRead && !$("doc-view").hidden) fillView(docRead);
    }, { rootMargin: "600px 0px" }).observe($("doc-next"));
  }
  function isoDay(d) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d || "");
    return m && lang === "vi" ? `${m[3]}/${m[2]}/${m[1]}` : d || "";
  }
  // The official header as printed: who issued it, its number, type, place and date,
  // subject, who signed, on what bases, to whom.
  function renderHeader(doc) {
    const dl = $("doc-header-list");
    dl.replaceChildren();
    const add = (label, value, cls) => {
      if (!value || (Array.isArray(value) && !value.length)) return;
      const dt = document.createElement("dt"); dt.textContent = t(label);
      const dd = document.createElement("dd");
      if (cls) dd.className = cls;
      if (Array.isArray(value)) {
        const ul = document.createElement("ul");
        for (const v of value) { const li = document.createElement("li"); li.textContent = v; ul.appendChild(li); }
        dd.appendChild(ul);
      } else dd.textContent = value;
      dl.append(dt, dd);
    };
    add("hIssuer", doc.issuer, "h-issuer");
    add("hParent", doc.issuer_parent, "h-parent");
    add("hNumber", doc.number, "h-number");
    add("hType", doc.document_type, "h-type");
    add("hPlaceDate", [doc.place, isoDay(doc.date)].filter(Boolean).join(", "), "h-date");
    add("hSubject", doc.title, "h-subject");
    add("hSigner", [doc.signer_title, doc.signer].filter(Boolean).join(" "), "h-signer");
    add("hBases", doc.bases || [], "h-bases");
    add("hRecipients", doc.recipients || [], "h-recipients");
    $("doc-header").hidden = !(doc.issuer || doc.number || doc.signer);
  }
  function renderMeta(doc) {
    $("doc-meta").textContent = [typeLabel(doc.type), doc.date && `${t("date")}: ${isoDay(doc.date)}`, doc.provinces.join(", ")].filter(Boolean).join(" · ");
    renderHeader(doc);
    const links = $("doc-links");
    const parts = [];
    if (doc.source_url) parts.push(`${esc(t("source"))}: <a href="${esc(doc.source_url)}" rel="noopener noreferrer" target="_blank">${esc(doc.source_url)}</a>`);
    else if (doc.source) parts.push(`${esc(t("source"))}: ${esc(doc.source)}`);
    if (doc.file_url) parts.push(`<a href="${esc(doc.file_url)}" download>${esc(t("download"))}</a>`);
    parts.push(`<button type="button" class="link copy-cite-doc">${esc(t("cite"))}</button>`);
    links.innerHTML = parts.join(" · ");
    if (docRead && docRead.docId === doc.doc_id) renderPartNotice(docRead);
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
  // ``typing``: search as you type. Its first search pushes one history entry, the next
  // keystrokes replace it: Back returns to the page before the typing (it replaced the
  // site's only entry before, so Back left the site).
  function go(s, ask, typing) {
    const url = stateURL(s);
    if (typing && history.state && history.state.typed) history.replaceState({ typed: true }, "", url);
    else if (typing) history.pushState({ typed: true }, "", url);
    else if (history.state && history.state.typed && state && s.q === state.q) history.replaceState({}, "", url);
    else history.pushState({}, "", url);
    showState(s, ask);
  }
  function route() {
    const m = location.pathname.match(/^\/doc\/([^/]+)$/);
    if (m) {
      const hm = location.hash.match(/^#(?:p(\d+)|signature)$/);
      const at = hm ? (hm[1] !== undefined ? Number(hm[1]) : "signature") : null;
      openDoc(decodeURIComponent(m[1]), at, false, location.pathname + location.hash);
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
      if (btn.classList.contains("remove-chip")) {
        const filters = { ...state.filters };
        const k = btn.dataset.filter;
        const left = vals(filters[k]).filter((v) => v !== btn.dataset.value);
        if (left.length) filters[k] = Array.isArray(filters[k]) ? left : left[0];
        else delete filters[k];
        const s = { ...state, filters, offset: 0 };
        go(s, !!(lastAnswer && s.q), false);
        const next = $("chips").querySelector("button");
        (next || $("q")).focus();
        return;
      }
    }
    const a = ev.target.closest("a");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0 || a.target === "_blank" || a.hasAttribute("download")) return;
    const href = a.getAttribute("href") || "";
    // In-page links (skip links, the outline) move focus there; the URL keeps its state
    // (a changed hash would read as a navigation and open the view again).
    if (href.startsWith("#") && href.length > 1) {
      const focusOn = (target) => {
        if (!target) return;
        if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
        target.scrollIntoView({ block: "start" });
        target.focus({ preventScroll: true });
      };
      const target = document.getElementById(href.slice(1));
      const block = href.match(/^#b(\d+)$/);
      if (target) { ev.preventDefault(); focusOn(target); }
      else if (block && docRead && !$("doc-view").hidden) {
        // An outline entry past what is loaded: the parts up to it load first.
        ev.preventDefault();
        loadThrough(docRead, Number(block[1])).then(focusOn);
      }
      return;
    }
    if (a.dataset.q !== undefined || a.id === "as-typed") {
      ev.preventDefault();
      const u = new URL(href, location.origin);
      history.pushState({}, "", u.pathname + u.search);
      showState(readURL(), true);
      return;
    }
    const m = href.match(/^\/doc\/([^/#?]+)(?:#(?:p(\d+)|(signature)))?$/);
    if (!m) return;
    ev.preventDefault();
    openDoc(decodeURIComponent(m[1]), m[2] !== undefined ? Number(m[2]) : m[3] ? "signature" : null, true, href);
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
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => { if (r.checked && state) go({ ...state, group: r.value, offset: 0 }, false, false); });
  }
  const turnPage = (offset) => {
    go({ ...state, offset }, false, false);
    $("results-view").focus({ preventScroll: true });
    $("results-view").scrollIntoView({ block: "start" });
  };
  $("prev-docs").addEventListener("click", () => turnPage(Math.max(0, state.offset - PAGE)));
  $("next-docs").addEventListener("click", () => { if (results && results.next !== null) turnPage(results.next); });
  $("docs-more").addEventListener("click", () => loadDocs(state, true));
  $("doc-find").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (docRead) findInDoc(docRead, $("doc-find-q").value.trim());
  });
  $("doc-find-next").addEventListener("click", () => { if (docRead) nextFind(docRead); });
  $("doc-next").addEventListener("click", () => { if (docRead) { docRead.failed = false; loadNextPart(docRead); } });
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

  // Filters fold away on a phone; on a wide screen they stay open.
  if (wide()) $("filters-box").open = true;
  applyLang();
  route();
})();
