// One table of the messages the search page and the admin page show for what the server
// refuses: the API's error codes (web/errors.py, ERROR_CODES) and the reasons an upload's
// file is rejected (web/admin.py, ingest/). The server's own `detail` / `reason` is English
// for whoever debugs; a person reads these, in the page's language.
// Loaded before app.js and admin.js; defines window.PSMessages.
(function () {
  "use strict";
  const ERRORS = {
    bad_request: { vi: "Yêu cầu không hợp lệ.", en: "The request is not valid." },
    bad_query: { vi: "Câu hỏi không dùng được.", en: "The question cannot be used." },
    cors_rejected: { vi: "Tra cứu chưa dùng được trên trang này.", en: "Search is not enabled on this site." },
    unauthorized: { vi: "Khóa không đúng hoặc thiếu.", en: "The key is missing or not valid." },
    forbidden: { vi: "Khóa này không có quyền làm việc này.", en: "This key may not do that." },
    not_found: { vi: "Không tìm thấy.", en: "Not found." },
    method_not_allowed: { vi: "Yêu cầu không được phép ở đây.", en: "That request is not allowed here." },
    busy: { vi: "Một lần nạp khác đang chạy; hãy thử lại sau.", en: "Another ingest is running; try again later." },
    request_too_large: { vi: "Dữ liệu gửi lên quá lớn.", en: "The upload is too large." },
    too_many_files: { vi: "Quá nhiều tệp trong một lần tải lên.", en: "Too many files in one upload." },
    no_file_ingested: { vi: "Không tệp nào vào được chỉ mục.", en: "No file could be indexed." },
    rate_limited: { vi: "Bạn gửi quá nhiều yêu cầu; hãy đợi một lát rồi thử lại.", en: "Too many requests; wait a moment and try again." },
    internal_error: { vi: "Máy chủ gặp lỗi; đây là lỗi phần mềm, không phải do yêu cầu của bạn.", en: "The server failed; this is a bug, not your request." },
    overloaded: { vi: "Máy chủ đang bận; hãy thử lại sau.", en: "The server is busy; try again later." },
    timeout: { vi: "Máy chủ trả lời quá lâu; hãy thử lại.", en: "The server took too long to answer; try again." },
    index_unavailable: { vi: "Chưa có chỉ mục để tra cứu. Hãy thử lại sau.", en: "There is no index to search yet. Try again later." },
    embedder_unavailable: { vi: "Bộ mã hóa văn bản đang khởi động lại; hãy thử lại sau ít giây.", en: "The text encoder is restarting; try again in a few seconds." },
    storage_unavailable: { vi: "Máy chủ không ghi được thư mục tải lên hoặc chỉ mục.", en: "The server cannot write its upload or index folder." },
    insufficient_storage: { vi: "Ổ đĩa của máy chủ đã đầy.", en: "The server's disk is full." },
    // Not from the server: the browser could not reach it.
    network: { vi: "Không kết nối được với máy chủ.", en: "The server could not be reached." },
    other: { vi: "Đã có lỗi xảy ra", en: "Something went wrong" },
  };
  const mb = (bytes) => (Number(bytes) / 1048576).toLocaleString("vi-VN", { maximumFractionDigits: 1 });
  // Why a file of an upload was rejected: the reason's pattern, and the message in each
  // language (a function of the pattern's groups where the reason carries numbers).
  const REASONS = [
    [/^the file has no usable name/, { vi: "Tệp không có tên dùng được.", en: "The file has no usable name." }],
    [/^unsupported file type (\S+)(?:; supported: (.*))?/, {
      vi: (m) => `Không nhận loại tệp ${m[1]}${m[2] ? `; chỉ nhận ${m[2]}` : ""}.`,
      en: (m) => `File type ${m[1]} is not supported${m[2] ? `; supported: ${m[2]}` : ""}.`,
    }],
    [/^the file is (\d+) bytes; the limit is (\d+) bytes/, {
      vi: (m) => `Tệp nặng ${mb(m[1])} MB; giới hạn là ${mb(m[2])} MB.`,
      en: (m) => `The file is ${mb(m[1])} MB; the limit is ${mb(m[2])} MB.`,
    }],
    [/^the same file name twice/, { vi: "Hai tệp cùng tên trong một lần tải lên.", en: "The same file name twice in one upload." }],
    [/^empty file/, { vi: "Tệp rỗng.", en: "The file is empty." }],
    [/^the server's file system refuses this file name/, {
      vi: "Máy chủ không lưu được tệp với tên này; hãy đặt tên ngắn hơn.", en: "The server cannot store a file with this name; use a shorter name.",
    }],
    [/^not a PDF/, { vi: "Tệp không phải là PDF.", en: "The file is not a PDF." }],
    [/^not a readable PDF/, { vi: "Không đọc được tệp PDF này (tệp hỏng?).", en: "This PDF cannot be read (damaged?)." }],
    [/^encrypted PDF/, { vi: "PDF có mật khẩu; hãy gỡ mật khẩu rồi tải lên lại.", en: "The PDF is password-protected; remove the password and upload it again." }],
    [/^PDF has no pages/, { vi: "PDF không có trang nào.", en: "The PDF has no pages." }],
    [/^PDF has (\d+) pages; the limit is (\d+)/, {
      vi: (m) => `PDF có ${m[1]} trang; giới hạn là ${m[2]} trang.`, en: (m) => `The PDF has ${m[1]} pages; the limit is ${m[2]}.`,
    }],
    [/^no extractable text/, { vi: "Không lấy được chữ từ tệp (bản quét hoặc chỉ có ảnh?).", en: "No text could be taken from the file (a scan or images only?)." }],
    [/^not a DOCX/, { vi: "Tệp không phải là DOCX.", en: "The file is not a DOCX." }],
    [/^not a readable DOCX/, { vi: "Không đọc được tệp DOCX này (tệp hỏng?).", en: "This DOCX cannot be read (damaged?)." }],
    [/^not UTF-8 or Windows-1258 text/, { vi: "Tệp văn bản không ở bảng mã UTF-8 hay Windows-1258.", en: "The text file is neither UTF-8 nor Windows-1258." }],
    [/^binary data in a text file/, { vi: "Tệp văn bản chứa dữ liệu nhị phân.", en: "The text file holds binary data." }],
    [/^cannot read file/, { vi: "Máy chủ không đọc được tệp.", en: "The server could not read the file." }],
    [/^could not extract text/, { vi: "Không lấy được chữ từ tệp.", en: "No text could be taken from the file." }],
    [/^document has (\d+) characters of text; the limit is (\d+)/, {
      vi: (m) => `Văn bản dài ${m[1]} ký tự; giới hạn là ${m[2]} ký tự.`, en: (m) => `The document has ${m[1]} characters; the limit is ${m[2]}.`,
    }],
    [/^no text (left after cleaning|to index after chunking)/, { vi: "Tệp không có chữ nào để đưa vào chỉ mục.", en: "The file has no text to index." }],
    [/^text extraction took longer than ([\d.]+) s/, {
      vi: (m) => `Đọc tệp lâu quá ${m[1]} giây nên đã dừng.`, en: (m) => `Reading the file took over ${m[1]} s and was stopped.`,
    }],
    [/^text extraction needed more than (\d+) MiB/, {
      vi: (m) => `Đọc tệp cần hơn ${m[1]} MiB bộ nhớ nên đã dừng.`, en: (m) => `Reading the file needed over ${m[1]} MiB of memory and was stopped.`,
    }],
    [/(already exists|^same document id)/, { vi: "Đã có văn bản cùng mã; hãy đổi tên tệp.", en: "A document with the same id exists; rename the file." }],
    [/^a link to /, { vi: "Liên kết trỏ ra ngoài thư mục; không được dùng.", en: "A link outside the folder; not followed." }],
    [/^pending$/, { vi: "Chưa được xử lý.", en: "Not processed." }],
  ];
  const UNKNOWN_REASON = { vi: "Không dùng được tệp này.", en: "This file could not be used." };

  function pick(entry, lang, m) {
    const v = entry[lang] || entry.vi;
    return typeof v === "function" ? v(m) : v;
  }
  window.PSMessages = {
    codes: Object.keys(ERRORS),
    // The message for an API error code, or null when the table has none.
    error(code, lang) { return ERRORS[code] ? pick(ERRORS[code], lang) : null; },
    // {text, known}: a rejection reason said in ``lang``; an unknown one gets a general
    // message (the server's words stay available to the caller for a tooltip).
    reason(reason, lang) {
      const r = String(reason || "");
      for (const [re, entry] of REASONS) {
        const m = r.match(re);
        if (m) return { text: pick(entry, lang, m), known: true };
      }
      return { text: pick(UNKNOWN_REASON, lang), known: false };
    },
  };
})();
