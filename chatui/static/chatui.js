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
