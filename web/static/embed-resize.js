// For portals that frame the compact page (/embed): add this script once, after the iframe,
//   <script src="https://SEARCH-HOST/embed-resize.js"></script>
// and every iframe showing SEARCH-HOST/embed takes the height its page reports
// (postMessage {type: "policy-search:height", height}), so it never scrolls inside.
(function () {
  "use strict";
  const script = document.currentScript;
  const origin = script ? new URL(script.src, location.href).origin : location.origin;
  window.addEventListener("message", (ev) => {
    if (ev.origin !== origin || !ev.data || ev.data.type !== "policy-search:height") return;
    const height = Number(ev.data.height);
    if (!Number.isFinite(height) || height <= 0) return;
    for (const frame of document.querySelectorAll("iframe")) {
      if (frame.contentWindow === ev.source) frame.style.height = `${Math.min(height, 20000)}px`;
    }
  });
})();
