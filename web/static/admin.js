// Admin page: add documents (drag and drop, several at once), remove them, see the index.
// Uses the write API as any client does. The admin key is typed here and kept only in this
// tab's sessionStorage: it is sent in the Authorization header, never in a URL, and never
// written to the console.
(function () {
  "use strict";
  const T = {
    vi: {
      skip: "Bỏ qua đến nội dung", title: "Quản trị kho văn bản", langLabel: " – English", langShort: "EN",
      keyTitle: "Khóa quản trị", keyLabel: "Khóa quản trị", keyPlaceholder: "Dán khóa quản trị",
      keySave: "Dùng khóa", keyForget: "Quên khóa", keyNone: "Chưa có khóa: nhập khóa quản trị để thêm hoặc xóa văn bản.",
      keySet: "Đã lưu khóa cho thẻ trình duyệt này (mất khi đóng thẻ).", keyBad: "Khóa không đúng.",
      keyForbidden: "Khóa này chỉ được tra cứu, không được thêm hay xóa văn bản.",
      statsTitle: "Chỉ mục", uploadTitle: "Thêm văn bản",
      dropHint: "Kéo thả tệp vào đây (PDF, DOCX, HTML, TXT, MD), hoặc", choose: "Chọn tệp…",
      uploading: "Đang tải lên…", processing: "Đã tải lên; đang đọc và đưa vào chỉ mục…",
      docsTitle: "Văn bản trong chỉ mục", colTitle: "Tên", colId: "Mã", colSource: "Nguồn", colActions: "Thao tác",
      delete: "Xóa", cancel: "Hủy", confirm: (t) => `Xóa “${t}” khỏi chỉ mục? Không thể hoàn tác.`,
      deleted: (t) => `Đã xóa “${t}”.`, searchPage: "Trang tra cứu", apiDocs: "Tài liệu API",
      st: { added: "Đã thêm", updated: "Đã cập nhật", unchanged: "Không đổi", rejected: "Bị từ chối" },
      // Each status counted apart: a file sent again unchanged is not "indexed" again.
      summary: (n, v) => `${[n.added && `${n.added} tệp được thêm`, n.updated && `${n.updated} tệp được cập nhật`,
        n.unchanged && `${n.unchanged} tệp không đổi`, n.rejected && `${n.rejected} tệp bị từ chối`].filter(Boolean).join(", ")}. Phiên bản chỉ mục: ${v}.`,
      noneIngested: "Không tệp nào vào được chỉ mục.", needKey: "Hãy nhập khóa quản trị trước.",
      stats: { index_version: "Phiên bản", documents: "Văn bản", chunks: "Đoạn", embedder: "Mô hình nhúng", index_built_at: "Xây dựng lúc" },
      // Where the admin page says it better than the shared table (messages.js).
      err: { forbidden: "Khóa này không có quyền ghi.", not_found: "Không còn văn bản này." },
    },
    en: {
      skip: "Skip to content", title: "Collection admin", langLabel: " – Tiếng Việt", langShort: "VI",
      keyTitle: "Admin key", keyLabel: "Admin key", keyPlaceholder: "Paste the admin key",
      keySave: "Use key", keyForget: "Forget key", keyNone: "No key yet: enter the admin key to add or remove documents.",
      keySet: "Key kept for this browser tab (gone when the tab closes).", keyBad: "The key is not valid.",
      keyForbidden: "This key may search but not add or remove documents.",
      statsTitle: "Index", uploadTitle: "Add documents",
      dropHint: "Drop files here (PDF, DOCX, HTML, TXT, MD), or", choose: "Choose files…",
      uploading: "Uploading…", processing: "Uploaded; reading and indexing…",
      docsTitle: "Documents in the index", colTitle: "Title", colId: "Id", colSource: "Source", colActions: "Actions",
      delete: "Delete", cancel: "Cancel", confirm: (t) => `Remove “${t}” from the index? This cannot be undone.`,
      deleted: (t) => `Removed “${t}”.`, searchPage: "Search page", apiDocs: "API documentation",
      st: { added: "Added", updated: "Updated", unchanged: "Unchanged", rejected: "Rejected" },
      summary: (n, v) => `${[n.added && `${n.added} added`, n.updated && `${n.updated} updated`,
        n.unchanged && `${n.unchanged} unchanged`, n.rejected && `${n.rejected} rejected`].filter(Boolean).join(", ")}. Index version: ${v}.`,
      noneIngested: "No file could be indexed.", needKey: "Enter the admin key first.",
      stats: { index_version: "Version", documents: "Documents", chunks: "Passages", embedder: "Embedder", index_built_at: "Built at" },
      err: { forbidden: "This key may not write.", not_found: "This document is gone already." },
    },
  };
  const KEY = "ps-admin-key";
  const $ = (id) => document.getElementById(id);
  let lang = localStorage.getItem("ps-lang") === "en" ? "en" : "vi";
  const t = (k) => T[lang][k];
  const key = () => sessionStorage.getItem(KEY) || "";
  const auth = () => (key() ? { Authorization: `Bearer ${key()}` } : {});
  const M = window.PSMessages;
  const errText = (code, status) => t("err")[code] || M.error(code, lang) || `${M.error("other", lang)} (${code || status}).`;

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { const v = t(el.dataset.i18n); if (typeof v === "string") el.textContent = v; });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    const b = $("lang");
    b.firstChild.textContent = t("langShort");
    b.setAttribute("aria-pressed", String(lang === "en"));
    b.lastElementChild.lang = lang === "vi" ? "en" : "vi";
    document.title = t("title");
    $("key-status").textContent = key() ? t("keySet") : t("keyNone");
    loadStats();
    loadDocs();
  }

  async function call(method, url, body) {
    let r;
    try { r = await fetch(url, { method, headers: { Accept: "application/json", ...auth() }, body }); }
    catch (e) { return { ok: false, status: 0, body: { error: "network" } }; }
    const data = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body: data };
  }

  async function loadStats() {
    const r = await call("GET", "/api/stats");
    const dl = $("stats");
    dl.replaceChildren();
    if (!r.ok) { const dd = document.createElement("dd"); dd.textContent = errText(r.body.error, r.status); dl.appendChild(dd); return; }
    for (const [k, label] of Object.entries(t("stats"))) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = String(r.body[k] ?? "");
      dl.append(dt, dd);
    }
  }

  async function loadDocs() {
    const r = await call("GET", "/api/documents?sort=title");
    const tbody = $("docs");
    tbody.replaceChildren();
    if (!r.ok) { $("docs-status").textContent = errText(r.body.error, r.status); return; }
    for (const d of r.body.documents) {
      const tr = document.createElement("tr");
      const title = document.createElement("td");
      const a = document.createElement("a"); a.href = `/doc/${encodeURIComponent(d.doc_id)}`; a.textContent = d.title;
      title.appendChild(a);
      const id = document.createElement("td"); id.className = "hide-phone"; id.textContent = d.doc_id;
      const src = document.createElement("td"); src.className = "hide-phone"; src.textContent = d.source;
      const act = document.createElement("td");
      const del = document.createElement("button");
      del.type = "button"; del.className = "btn danger delete"; del.textContent = t("delete");
      del.dataset.doc = d.doc_id; del.dataset.title = d.title;
      del.setAttribute("aria-label", `${t("delete")}: ${d.title}`);
      act.appendChild(del);
      tr.append(title, id, src, act);
      tbody.appendChild(tr);
    }
  }

  function upload(files) {
    if (!files.length) return;
    if (!key()) { $("upload-status").textContent = t("needKey"); $("key").focus(); return; }
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const xhr = new XMLHttpRequest();
    const bar = $("progress");
    $("progress-box").hidden = false;
    $("progress-label").textContent = t("uploading");
    bar.value = 0;
    $("upload-results").replaceChildren();
    $("upload-status").textContent = "";
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) bar.value = Math.round((100 * ev.loaded) / ev.total); };
    xhr.upload.onload = () => { bar.value = 100; $("progress-label").textContent = t("processing"); };
    xhr.onerror = () => { $("progress-box").hidden = true; $("upload-status").textContent = errText("network", 0); };
    xhr.onload = () => {
      $("progress-box").hidden = true;
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      const list = $("upload-results");
      for (const f of body.files || []) {
        const li = document.createElement("li");
        const st = document.createElement("span");
        st.className = f.status === "rejected" ? "bad" : "ok";
        st.textContent = `${t("st")[f.status] || f.status}: `;
        li.append(st, document.createTextNode(f.filename));
        if (f.reason) {
          // The reason in the page's language; the server's own words on hover, for support.
          const why = document.createElement("span");
          why.className = "reason";
          why.textContent = ` — ${M.reason(f.reason_code, f.reason_args, lang).text}`;
          why.title = f.reason;
          li.appendChild(why);
        }
        list.appendChild(li);
      }
      if (xhr.status === 200) {
        const n = { added: 0, updated: 0, unchanged: 0, rejected: 0 };
        for (const f of body.files) n[f.status] = (n[f.status] || 0) + 1;
        $("upload-status").textContent = t("summary")(n, body.index_version);
        loadDocs(); loadStats();
      } else if (body.files) {
        $("upload-status").textContent = t("noneIngested");
      } else {
        $("upload-status").textContent = errText(body.error, xhr.status);
      }
    };
    xhr.open("POST", "/api/documents");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", `Bearer ${key()}`);
    xhr.send(form);
  }

  $("key-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = $("key").value.trim();
    $("key").value = "";
    if (!value) return;
    sessionStorage.setItem(KEY, value);
    // A harmless authenticated read tells whether the key is valid before any upload.
    const r = await call("GET", "/api/stats");
    if (r.status === 401) { sessionStorage.removeItem(KEY); $("key-status").textContent = t("keyBad"); return; }
    $("key-status").textContent = t("keySet");
    loadStats();
  });
  $("key-forget").addEventListener("click", () => { sessionStorage.removeItem(KEY); $("key-status").textContent = t("keyNone"); });
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => { ev.preventDefault(); drop.classList.remove("over"); upload([...ev.dataTransfer.files]); });
  $("files").addEventListener("change", () => { upload([...$("files").files]); $("files").value = ""; });
  $("docs").addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button.delete");
    if (!btn) return;
    if (!key()) { $("docs-status").textContent = t("needKey"); $("key").focus(); return; }
    const dialog = $("confirm");
    $("confirm-text").textContent = t("confirm")(btn.dataset.title);
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "yes") { btn.focus(); return; }
      const r = await call("DELETE", `/api/documents/${encodeURIComponent(btn.dataset.doc)}`);
      $("docs-status").textContent = r.ok ? t("deleted")(btn.dataset.title) : errText(r.body.error, r.status);
      loadDocs(); loadStats();
    }, { once: true });
  });
  $("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; localStorage.setItem("ps-lang", lang); applyLang(); });
  applyLang();
})();
