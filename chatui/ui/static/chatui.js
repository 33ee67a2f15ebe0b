// chatui's page script. Nothing here walks the messages: each handler does a bounded amount of work, whatever the
// length of the conversation, and none runs per token (a ResizeObserver fires at most once a frame; the
// MutationObserver watches only the list's own rows, not their text).
//
// - The message list (`.chatui-messages`) opens at its end, or centred on `.chatui-target` (`/chat/{id}?message=`);
//   the server moves it later with `chatui.toTop()` (Jump to start), `chatui.centre(id)` (the next search hit) and
//   `chatui.toBottom()` (Jump to latest).
//   While the reader is at the bottom it stays there as replies grow; otherwise the message at the top of the view
//   stays put while pages of messages are added or dropped above or below it (Chromium's own scroll anchoring is off,
//   see chatui.css, because it does not hold at scrollTop 0, where older messages are loaded).
// - A button with the class `chatui-autoload` ("Show more", "Load older messages") clicks itself when it comes
//   near the viewport, and again while it stays near, so a page that does not fill the screen loads the next.
window.chatui = (() => {
  const NEAR_PX = 800; // load the next page this far before its edge comes into view
  const BOTTOM_PX = 80; // this close to the bottom counts as "at the bottom"
  const FALLBACK_MS = 3000;
  let list = null;
  let pinned = true;
  let anchor = null;
  let anchorTop = 0;

  const scroller = () => document.scrollingElement || document.documentElement;
  const atBottom = () => window.innerHeight + window.scrollY >= scroller().scrollHeight - BOTTOM_PX;

  // The first message whose bottom is below the top of the view: a binary search over the (bounded) children.
  function firstVisible() {
    const rows = list.children;
    let low = 0;
    let high = rows.length - 1;
    let found = null;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (rows[middle].getBoundingClientRect().bottom > 0) {
        found = rows[middle];
        high = middle - 1;
      } else {
        low = middle + 1;
      }
    }
    return found;
  }

  function remember() {
    anchor = list ? firstVisible() : null;
    anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
  }

  function toBottom() {
    pinned = true;
    window.scrollTo(0, scroller().scrollHeight);
  }

  // Jump to start, and a search hit opened in the page: the window was just rebuilt by the server, whose updates
  // may reach the DOM a frame after this call; so wait (a bounded number of frames) for the element to be there.
  function whenThere(find, then, frames = 120) {
    const element = find();
    if (element) then(element);
    else if (frames > 0) requestAnimationFrame(() => whenThere(find, then, frames - 1));
  }

  function toTop() {
    pinned = false;
    whenThere(() => list && list.firstElementChild, () => {
      window.scrollTo(0, 0);
      remember();
    });
  }

  // Centred now, and again once the page's layout has settled (Quasar sizes the header and footer after mount):
  // a search hit lands in the middle of the view, not where the first layout put the middle.
  function centreOn(element) {
    const centre = () => {
      element.scrollIntoView({ block: "center" });
      remember();
    };
    centre();
    requestAnimationFrame(() => requestAnimationFrame(centre));
  }

  function centre(id) {
    pinned = false;
    whenThere(() => document.getElementById(`c${id}`), centreOn);
  }

  function settle() {
    if (pinned) {
      window.scrollTo(0, scroller().scrollHeight);
      return;
    }
    if (anchor && anchor.isConnected) {
      const moved = anchor.getBoundingClientRect().top - anchorTop;
      if (moved) window.scrollBy(0, moved);
    }
    remember();
  }

  // Clicks `button` when it comes near the viewport; then waits for the answer (the server bumps the button's
  // `data-loads` when a page is in, or FALLBACK_MS) before looking again, so a click never goes out on a page that has
  // not shown the last answer yet.
  function autoload(button) {
    if (button.hasAttribute("data-autoload")) return; // once per button
    button.setAttribute("data-autoload", "");
    const rearm = () => button.isConnected && observer.observe(button);
    const observer = new IntersectionObserver(
      (entries) => {
        const entry = entries[entries.length - 1]; // several may queue up for the one button: the newest counts
        if (entry.isIntersecting && button.isConnected && button.offsetParent !== null) {
          observer.unobserve(button);
          const answered = new MutationObserver(() => {
            answered.disconnect();
            clearTimeout(fallback);
            requestAnimationFrame(rearm);
          });
          const fallback = setTimeout(() => {
            answered.disconnect();
            rearm();
          }, FALLBACK_MS);
          answered.observe(button, { attributes: true, attributeFilter: ["data-loads"] });
          button.click();
        }
      },
      { rootMargin: `${NEAR_PX}px 0px` },
    );
    observer.observe(button);
  }

  function start(messages) {
    list = messages.querySelector(".chatui-rows") || messages;
    const target = messages.querySelector(".chatui-target");
    if (target) {
      pinned = false;
      centreOn(target);
    } else {
      toBottom();
    }
    window.addEventListener(
      "scroll",
      () => {
        pinned = atBottom();
        remember();
      },
      { passive: true },
    );
    // Growth (a reply streaming, a bubble's footer) resizes the list; pages coming and going change its rows, which
    // may leave its size unchanged (a page of 30 in at the top, 30 out at the bottom).
    new ResizeObserver(settle).observe(messages);
    new MutationObserver(settle).observe(list, { childList: true });
  }

  // Notices (Quasar's notifications at the bottom: "A reply is still being written…") stand above the message box,
  // never over it: the footer's height is a CSS variable (chatui.css), kept as the box grows.
  function clearFooter() {
    const footer = document.querySelector(".chatui-footer");
    if (!footer) return;
    const root = document.documentElement;
    new ResizeObserver(() => root.style.setProperty("--chatui-footer-height", `${footer.offsetHeight}px`)).observe(footer);
  }

  function init() {
    const messages = document.querySelector(".chatui-messages");
    if (messages) start(messages);
    clearFooter();
    // After the first positioning, so that the top of a list that opens at its end does not load at once.
    requestAnimationFrame(() => document.querySelectorAll(".chatui-autoload").forEach(autoload));
  }

  function whenMounted() {
    if (document.querySelector(".nicegui-layout")) return init();
    const observer = new MutationObserver(() => {
      if (!document.querySelector(".nicegui-layout")) return;
      observer.disconnect();
      init();
    });
    observer.observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", whenMounted);
  else whenMounted();

  return { toBottom, toTop, centre };
})();

// Copying. Copy code: one listener for every code block's button, present and future (blocks arrive as sanitized
// HTML). A message's Copy button calls `chatui.copyMessage(event, text)` (its text is in the page) or, for a message
// too long to carry, the server writes the clipboard and calls `chatui.copied(button)`. Both say "Copied" on the
// button for a moment (and to screen readers: the word is a status).
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
  const copied = (button, failed = false) => {
    if (!button || button.querySelector(".chatui-copied")) return;
    const word = Object.assign(document.createElement("span"), { className: "chatui-copied" });
    word.setAttribute("role", "status");
    word.textContent = failed ? "Copy failed" : "Copied";
    (button.querySelector(".q-btn__content") || button).append(word);
    setTimeout(() => word.remove(), 1500);
  };
  window.chatui.copied = copied;
  window.chatui.copyMessage = (event, text) => {
    const button = event?.target instanceof Element ? event.target.closest("button") : null;
    copy(text).then(() => copied(button), () => copied(button, true));
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
  // The import dialog's drop zone (chatui/ui/transfer.py): a file dropped on it becomes its input's file.
  const dropZone = (event) => (event.target instanceof Element ? event.target.closest(".chatui-drop") : null);
  const showChosen = (zone) => {
    const input = zone.querySelector("input[type=file]");
    const name = zone.querySelector(".chatui-drop-name");
    if (input && name) name.textContent = input.files.length ? input.files[0].name : "";
  };
  document.addEventListener("dragover", (event) => {
    const zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("chatui-drop-over");
  });
  document.addEventListener("dragleave", (event) => {
    const zone = dropZone(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("chatui-drop-over");
  });
  document.addEventListener("drop", (event) => {
    const zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("chatui-drop-over");
    const input = zone.querySelector("input[type=file]");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showChosen(zone);
    }
  });
  document.addEventListener("change", (event) => {
    const zone = dropZone(event);
    if (zone) showChosen(zone);
  });
})();

// A conversation dragged onto a folder (chatui/ui/folders.py): rows carry data-conversation, folders (and the
// "Chats" heading: out of any folder) data-folder; a drop becomes the page event `chatui_move`.
(() => {
  const TYPE = "application/x-chatui-conversation";
  const target = (event) => (event.target instanceof Element ? event.target.closest("[data-folder]") : null);
  document.addEventListener("dragstart", (event) => {
    const row = event.target instanceof Element ? event.target.closest("[data-conversation]") : null;
    if (!row || !event.dataTransfer) return;
    event.dataTransfer.setData(TYPE, row.getAttribute("data-conversation"));
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (event) => {
    const folder = target(event);
    if (!folder || !event.dataTransfer || !event.dataTransfer.types.includes(TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    folder.classList.add("chatui-folder-over");
  });
  document.addEventListener("dragleave", (event) => {
    const folder = target(event);
    if (folder && !folder.contains(event.relatedTarget)) folder.classList.remove("chatui-folder-over");
  });
  document.addEventListener("drop", (event) => {
    const folder = target(event);
    const conversation = event.dataTransfer ? event.dataTransfer.getData(TYPE) : "";
    if (!folder || !conversation) return;
    event.preventDefault();
    folder.classList.remove("chatui-folder-over");
    emitEvent("chatui_move", { conversation, folder: folder.getAttribute("data-folder") });
  });
})();

// The service worker (chatui/ui/pwa.py) caches the app shell, so the installed app starts fast; browsers register
// workers only in a secure context (HTTPS, or localhost / 127.0.0.1).
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch(() => {}); // no worker: the app works the same, uncached
}
