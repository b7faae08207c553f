// One table of the messages the search page and the admin page show for what the server
// refuses: the API's error codes (web/errors.py, ERROR_CODES) and the codes of the reasons
// an upload's file is rejected (`reason_code`, ingest/reasons.py). The server's own
// `detail` / `reason` is English for whoever debugs; a person reads these, in the page's
// language. Nothing here reads the server's English words.
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
  // Why a file of an upload was rejected, by the API's stable `reason_code`
  // (ingest/reasons.py); a message with numbers reads them from `reason_args`.
  const REASONS = {
    no_name: { vi: "Tệp không có tên dùng được.", en: "The file has no usable name." },
    unsupported_type: {
      vi: (a) => `Không nhận loại tệp ${a.type || ""}${a.supported ? `; chỉ nhận ${a.supported}` : ""}.`,
      en: (a) => `File type ${a.type || ""} is not supported${a.supported ? `; supported: ${a.supported}` : ""}.`,
    },
    too_large: {
      vi: (a) => `Tệp nặng ${mb(a.size)} MB; giới hạn là ${mb(a.limit)} MB.`,
      en: (a) => `The file is ${mb(a.size)} MB; the limit is ${mb(a.limit)} MB.`,
    },
    duplicate_name: { vi: "Hai tệp cùng tên trong một lần tải lên.", en: "The same file name twice in one upload." },
    empty_file: { vi: "Tệp rỗng.", en: "The file is empty." },
    bad_file_name: {
      vi: "Máy chủ không lưu được tệp với tên này; hãy đặt tên ngắn hơn.", en: "The server cannot store a file with this name; use a shorter name.",
    },
    not_pdf: { vi: "Tệp không phải là PDF.", en: "The file is not a PDF." },
    unreadable_pdf: { vi: "Không đọc được tệp PDF này (tệp hỏng?).", en: "This PDF cannot be read (damaged?)." },
    encrypted_pdf: { vi: "PDF có mật khẩu; hãy gỡ mật khẩu rồi tải lên lại.", en: "The PDF is password-protected; remove the password and upload it again." },
    pdf_no_pages: { vi: "PDF không có trang nào.", en: "The PDF has no pages." },
    too_many_pages: {
      vi: (a) => `PDF có ${a.pages} trang; giới hạn là ${a.limit} trang.`, en: (a) => `The PDF has ${a.pages} pages; the limit is ${a.limit}.`,
    },
    no_extractable_text: { vi: "Không lấy được chữ từ tệp (bản quét hoặc chỉ có ảnh?).", en: "No text could be taken from the file (a scan or images only?)." },
    not_docx: { vi: "Tệp không phải là DOCX.", en: "The file is not a DOCX." },
    unreadable_docx: { vi: "Không đọc được tệp DOCX này (tệp hỏng?).", en: "This DOCX cannot be read (damaged?)." },
    bad_encoding: { vi: "Tệp văn bản không ở bảng mã UTF-8 hay Windows-1258.", en: "The text file is neither UTF-8 nor Windows-1258." },
    binary_text: { vi: "Tệp văn bản chứa dữ liệu nhị phân.", en: "The text file holds binary data." },
    unreadable_file: { vi: "Máy chủ không đọc được tệp.", en: "The server could not read the file." },
    extraction_failed: { vi: "Không lấy được chữ từ tệp.", en: "No text could be taken from the file." },
    too_long: {
      vi: (a) => `Văn bản dài ${a.chars} ký tự; giới hạn là ${a.limit} ký tự.`, en: (a) => `The document has ${a.chars} characters; the limit is ${a.limit}.`,
    },
    no_text: { vi: "Tệp không có chữ nào để đưa vào chỉ mục.", en: "The file has no text to index." },
    extraction_timeout: {
      vi: (a) => `Đọc tệp lâu quá ${a.seconds} giây nên đã dừng.`, en: (a) => `Reading the file took over ${a.seconds} s and was stopped.`,
    },
    extraction_memory: {
      vi: (a) => `Đọc tệp cần hơn ${a.mib} MiB bộ nhớ nên đã dừng.`, en: (a) => `Reading the file needed over ${a.mib} MiB of memory and was stopped.`,
    },
    extractor_crashed: { vi: "Trình đọc tệp bị lỗi với tệp này (tệp hỏng?).", en: "The file crashed the text reader (damaged?)." },
    duplicate_id: { vi: "Đã có văn bản cùng mã; hãy đổi tên tệp.", en: "A document with the same id exists; rename the file." },
    outside_link: { vi: "Liên kết trỏ ra ngoài thư mục; không được dùng.", en: "A link outside the folder; not followed." },
    pending: { vi: "Chưa được xử lý.", en: "Not processed." },
  };
  const UNKNOWN_REASON = { vi: "Không dùng được tệp này.", en: "This file could not be used." };

  function pick(entry, lang, args) {
    const v = entry[lang] || entry.vi;
    return typeof v === "function" ? v(args || {}) : v;
  }
  window.PSMessages = {
    codes: Object.keys(ERRORS),
    reasonCodes: Object.keys(REASONS),
    // The message for an API error code, or null when the table has none.
    error(code, lang) { return ERRORS[code] ? pick(ERRORS[code], lang) : null; },
    // {text, known}: a rejection said in ``lang`` from its code and values (the API's
    // reason_code and reason_args); an unknown code gets a general message (the server's
    // words stay available to the caller for a tooltip).
    reason(code, args, lang) {
      const entry = Object.prototype.hasOwnProperty.call(REASONS, code) ? REASONS[code] : null;
      return entry ? { text: pick(entry, lang, args), known: true } : { text: pick(UNKNOWN_REASON, lang), known: false };
    },
  };
})();
