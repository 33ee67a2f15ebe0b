// Citations in replies (issue 25): each "[n]" of a reply that lists its sources (.chatui-sources[data-links])
// becomes a link to passage n. Runs when replies are drawn or change, and again is harmless (links are skipped).
(() => {
  const CITE = /\[(\d{1,3})\]/g;
  const HAS = /\[\d{1,3}\]/;
  const SKIP = "a, code, pre, .chatui-sources, .katex";

  function link(bubble, links) {
    const walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) =>
        HAS.test(node.data) && !node.parentElement.closest(SKIP) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT,
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {
      const parts = document.createDocumentFragment();
      let last = 0;
      for (const match of node.data.matchAll(CITE)) {
        const href = links[match[1]];
        if (!href) continue;
        parts.append(node.data.slice(last, match.index));
        const a = document.createElement("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener";
        a.className = "chatui-cite";
        a.textContent = match[0];
        a.setAttribute("aria-label", `Source ${match[1]}`);
        parts.append(a);
        last = match.index + match[0].length;
      }
      if (last === 0) continue;
      parts.append(node.data.slice(last));
      node.replaceWith(parts);
    }
  }

  function scan() {
    for (const box of document.querySelectorAll(".chatui-sources[data-links]")) {
      const bubble = box.closest(".assistant-bubble");
      if (!bubble || bubble.classList.contains("chatui-streaming")) continue;
      try {
        link(bubble, JSON.parse(box.dataset.links));
      } catch (e) {
        /* a block without links: nothing to do */
      }
    }
  }

  let pending = null;
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(scan, 30);
  };
  const start = () => new MutationObserver(later).observe(document.body, { childList: true, subtree: true });
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
  later();
})();

// The Knowledge page's "Add files": pick several files and post them as the API takes them, then tell the page.
window.chatuiKnowledge = {
  pick(collection, accept) {
    const input = document.createElement("input");
    input.type = "file";
    input.multiple = true;
    input.accept = accept;
    input.addEventListener("change", async () => {
      if (!input.files.length) return;
      const body = new FormData();
      for (const file of input.files) body.append("file", file, file.name);
      const response = await fetch(`/api/knowledge/${encodeURIComponent(collection)}/documents`, {
        method: "POST",
        body,
        credentials: "same-origin",
      });
      if (typeof emitEvent === "function") emitEvent("chatui_knowledge_uploaded", { status: response.status });
    });
    input.click();
  },
};
