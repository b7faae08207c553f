// For portals that frame the compact page (/embed): add this script once, after the iframe,
//   <script src="https://SEARCH-HOST/embed-resize.js"></script>
// and every iframe showing SEARCH-HOST/embed takes the height its page reports
// (postMessage {type: "policy-search:height", height}), so it never scrolls inside.
// What the framed page reports of its searches becomes an event on its iframe element, as the
// widget's are on its <div>: "policy-search:result" (detail {mode, query, filters, offset,
// total, results, next_offset} or, for an answer, {mode: "ask", query, filters, answer,
// passages}) and "policy-search:error" ({code, status, retryAfter}).
(function () {
  "use strict";
  const script = document.currentScript;
  const origin = script ? new URL(script.src, location.href).origin : location.origin;
  window.addEventListener("message", (ev) => {
    if (ev.origin !== origin || !ev.data || typeof ev.data.type !== "string") return;
    const frame = [...document.querySelectorAll("iframe")].find((f) => f.contentWindow === ev.source);
    if (!frame) return;
    if (ev.data.type === "policy-search:height") {
      const height = Number(ev.data.height);
      if (Number.isFinite(height) && height > 0) frame.style.height = `${Math.min(height, 20000)}px`;
    } else if (ev.data.type === "policy-search:result" || ev.data.type === "policy-search:error") {
      frame.dispatchEvent(new CustomEvent(ev.data.type, { detail: ev.data.detail, bubbles: true }));
    }
  });
})();
