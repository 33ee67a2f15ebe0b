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
// (And Quasar's page loading bar gets the accessible name it lacks.)
(() => {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const SELECTOR = "[data-time]:not([title])";
  const label = (root) => {
    if (root.matches(".q-loading-bar") && !root.hasAttribute("aria-label")) root.setAttribute("aria-label", "Loading");
    const found = root.matches(SELECTOR) ? [root] : [];
    for (const element of [...found, ...root.querySelectorAll(SELECTOR)]) {
      const moment = new Date(element.getAttribute("data-time"));
      if (!Number.isNaN(moment.getTime())) element.setAttribute("title", format.format(moment));
    }
  };
  const start = () => {
    label(document.body);
    document.querySelectorAll(".q-loading-bar").forEach(label);
    new MutationObserver((records) => {  // only what was added: streaming text adds no element with a time
      for (const record of records) {
        for (const node of record.addedNodes) if (node instanceof Element) label(node);
      }
    }).observe(document.body, { childList: true, subtree: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Keyboard: the shortcuts are decided here, so ordinary typing never sends an event to the server.
//   Esc               clicks Stop while a reply streams (unless a dialog or menu is open: Esc closes that)
//   Ctrl/Cmd+Shift+O  new chat            Ctrl/Cmd+K  focus the conversation search (opens the drawer on a phone)
//   Ctrl+/            the list of shortcuts (server-side dialog)
// In the message box, Enter sends on a keyboard; on a touch screen, or while an input method composes, it is kept
// from the send listener, so it adds a line as usual.
(() => {
  const coarse = window.matchMedia("(pointer: coarse)");
  const visible = (element) => element && element.offsetParent !== null;
  const searchBox = () => {
    const direct = document.querySelector(".chatui-search input, input[aria-label='Search conversations']");
    if (direct) return direct;
    for (const label of document.querySelectorAll(".q-field__label")) {
      if (label.textContent.trim() === "Search conversations") return label.closest(".q-field")?.querySelector("input");
    }
    return null;
  };
  const focusSearch = () => {
    const box = searchBox();
    if (!box) return;
    if (!visible(box)) document.querySelector("button[aria-label='Conversations']")?.click();
    setTimeout(() => box.focus(), visible(box) ? 0 : 300);
  };
  const updateCounter = (area) => {
    const field = area.closest(".chatui-composer");
    const max = Number(area.getAttribute("data-max"));
    if (!field || !max) return;
    const length = area.value.length;
    if (length >= max * 0.9) {
      field.setAttribute("data-count", `${length.toLocaleString()} / ${max.toLocaleString()}`);
      field.toggleAttribute("data-over", length > max);
    } else {
      field.removeAttribute("data-count");
      field.removeAttribute("data-over");
    }
  };
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const inComposer = target instanceof HTMLTextAreaElement && target.closest(".chatui-composer");
    if (event.key === "Enter" && inComposer) {
      if (event.isComposing || event.keyCode === 229 || coarse.matches) event.stopPropagation();
      else if (!event.shiftKey) setTimeout(() => updateCounter(target), 500);
      return;
    }
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === "Escape") {
      if (document.querySelector(".q-dialog, .q-menu")) return;
      const stop = document.querySelector("button[aria-label='Stop']");
      if (visible(stop)) { event.preventDefault(); stop.click(); }
    } else if (mod && event.shiftKey && event.code === "KeyO") {
      event.preventDefault();
      window.location.assign("/");
    } else if (mod && !event.shiftKey && event.code === "KeyK") {
      event.preventDefault();
      focusSearch();
    } else if (mod && (event.key === "/" || event.code === "Slash")) {
      event.preventDefault();
      if (typeof emitEvent === "function") emitEvent("chatui_shortcuts");
    }
  }, true);
  document.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.hasAttribute("data-max")) updateCounter(event.target);
  });
})();
