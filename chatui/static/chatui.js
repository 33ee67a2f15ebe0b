// Keeps the newest message in view while a reply streams, unless the reader has scrolled up to read.
(() => {
  let pinned = true;
  const atBottom = () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  window.addEventListener("scroll", () => { pinned = atBottom(); }, { passive: true });
  const observer = new MutationObserver(() => {
    if (pinned) window.scrollTo(0, document.body.scrollHeight);
  });
  const start = () => observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Copy code: one listener for every code block's button, present and future (blocks arrive as sanitized HTML).
(() => {
  const copy = async (text) => {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");  // plain-http hosts have no Clipboard API
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
  };
  document.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest(".chatui-copy") : null;
    if (!button) return;
    const code = button.closest(".chatui-code")?.querySelector("pre");
    if (!code) return;
    try {
      await copy(code.textContent);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = "Copy code"; }, 1500);
  });
})();

// Message times: the server sends UTC (`data-time`); the tooltip shows it in the reader's own time zone.
(() => {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const SELECTOR = "[data-time]:not([title])";
  const label = (root) => {
    const found = root.matches(SELECTOR) ? [root] : [];
    for (const element of [...found, ...root.querySelectorAll(SELECTOR)]) {
      const moment = new Date(element.getAttribute("data-time"));
      if (!Number.isNaN(moment.getTime())) element.setAttribute("title", format.format(moment));
    }
  };
  const start = () => {
    label(document.body);
    new MutationObserver((records) => {  // only what was added: streaming text adds no element with a time
      for (const record of records) {
        for (const node of record.addedNodes) if (node instanceof Element) label(node);
      }
    }).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
