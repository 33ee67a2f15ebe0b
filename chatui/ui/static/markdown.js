// chatui's Markdown in the browser, after DOMPurify (a module, so it runs before NiceGUI mounts the page):
//
// - Links open in a new tab without giving it this page (`target="_blank"`, `rel="noopener noreferrer nofollow"`):
//   the server writes both, but DOMPurify drops `target` unless a hook puts it back.
// - Math (`<span class="chatui-math">` holding the TeX, `chatui.ui.markdown_extras`) is typeset with KaTeX, served
//   by this app (`katex/`), loaded with its stylesheet the first time a page shows math, `trust` off (no \href,
//   no \htmlClass). It runs as the spans arrive, before the browser paints, so a streaming reply's growing block
//   shows typeset math, not a flash of TeX.
// - A finished `mermaid` code block (`.chatui-mermaid`) is drawn with the Mermaid that NiceGUI serves
//   (`nicegui-mermaid` in the page's import map), never while its reply streams (`.chatui-streaming` on the bubble):
//   it is drawn when that class goes. The SVG is shown as an `<img>`, so the browser treats it as a picture: no
//   script, no event, nothing loaded. Its source stays in the block for Copy code. Drawings are kept by theme and
//   source, so a message shown again (long chats rebuild what scrolls back into view) costs no second drawing.
//
// Only what is added to the page is looked at (a MutationObserver's added nodes), never the whole conversation.
import DOMPurify from "dompurify";

const BASE = new URL("./", import.meta.url);
const KATEX_OPTIONS = { throwOnError: false, trust: false, strict: "ignore", maxSize: 50, maxExpand: 1000 };
const MAX_DIAGRAMS = 200; // drawings kept (SVG text), oldest first out

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const within = (root, selector) => [...(root.matches(selector) ? [root] : []), ...root.querySelectorAll(selector)];

let katex = null;
let katexLoading = null;

function loadKatex() {
  katexLoading ??= (async () => {
    const sheet = Object.assign(document.createElement("link"), { rel: "stylesheet" });
    sheet.href = new URL("katex/katex.min.css", BASE).href;
    document.head.append(sheet);
    await new Promise((loaded, failed) => {
      const script = Object.assign(document.createElement("script"), { onload: loaded, onerror: failed });
      script.src = new URL("katex/katex.min.js", BASE).href;
      document.head.append(script);
    });
    katex = window.katex;
  })();
  return katexLoading;
}

function typeset(root) {
  const pending = within(root, ".chatui-math:not([data-typeset])");
  if (!pending.length) return;
  if (!katex) {
    loadKatex().then(() => typeset(document.body), (error) => console.warn("chatui: KaTeX did not load", error));
    return;
  }
  for (const element of pending) {
    const tex = element.textContent;
    element.setAttribute("data-typeset", "");
    try {
      katex.render(tex, element, { ...KATEX_OPTIONS, displayMode: element.classList.contains("chatui-math-display") });
    } catch {
      element.textContent = tex; // (parse errors are drawn by KaTeX itself: throwOnError is off)
    }
  }
}

const drawings = new Map();
let mermaid = null;
let mermaidTheme = null;
let drawing = Promise.resolve();
let drawn = 0;

const theme = () => (document.body.classList.contains("body--dark") ? "dark" : "default");

// Tags in a diagram's text, but for `<br>`, reach Mermaid as text (`&lt;`, shown as "<"): Mermaid reads label HTML
// into a detached element while it lays out, where an `<img onerror>` would try to run (the CSP refuses it, but
// nothing should even try) or load. `<<interface>>`-style annotations and arrows (`<--`) are left alone.
const tame = (source) => source.replace(/(?<!<)<(?!br\s*\/?>)(?=[a-z/!?])/gi, "&lt;");

// Mermaid writes its SVG as HTML (`<br>`, HTML entities), which an image, read as XML, refuses: parse it in an
// inert document and write it out as XML.
function asXml(svg) {
  const root = new DOMParser().parseFromString(svg, "text/html").querySelector("svg");
  return root ? new XMLSerializer().serializeToString(root) : null;
}

async function svgFor(source, wanted) {
  const key = `${wanted}\n${source}`;
  if (drawings.has(key)) return drawings.get(key);
  mermaid ??= (await import("nicegui-mermaid")).mermaid;
  if (mermaidTheme !== wanted) {
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: wanted });
    mermaidTheme = wanted;
  }
  let svg = null;
  const tamed = tame(source);
  if (await mermaid.parse(tamed, { suppressErrors: true })) {
    drawn += 1;
    svg = asXml((await mermaid.render(`chatui-diagram-${drawn}`, tamed)).svg);
  }
  drawings.set(key, svg);
  if (drawings.size > MAX_DIAGRAMS) drawings.delete(drawings.keys().next().value);
  return svg;
}

async function draw(block) {
  const source = block.querySelector("pre")?.textContent ?? "";
  const svg = block.isConnected ? await svgFor(source, theme()) : null;
  if (!block.isConnected) return;
  block.querySelector(".chatui-diagram, .chatui-diagram-note")?.remove();
  if (svg === null) {
    const note = Object.assign(document.createElement("div"), { className: "chatui-diagram-note" });
    note.textContent = "This diagram could not be drawn; its source is below.";
    block.querySelector(".chatui-code-head")?.after(note);
    return;
  }
  const image = new Image();
  image.className = "chatui-diagram";
  image.alt = "Mermaid diagram (Copy code copies its source)";
  const width = /max-width:\s*([\d.]+)px/.exec(svg);
  if (width) image.style.width = `${Math.ceil(Number(width[1]))}px`;
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  block.querySelector(".chatui-code-head")?.after(image);
  block.classList.add("chatui-drawn");
}

function drawDiagrams(root, again = false) {
  const selector = again ? ".chatui-mermaid[data-drawn]" : ".chatui-mermaid:not([data-drawn])";
  for (const block of within(root, selector)) {
    if (block.closest(".chatui-streaming")) continue;
    block.setAttribute("data-drawn", "");
    drawing = drawing.then(() => draw(block)).catch((error) => console.warn("chatui: diagram", error));
  }
}

function look(root) {
  typeset(root);
  drawDiagrams(root);
}

function changedClass(record) {
  const was = record.oldValue ?? "";
  const target = record.target;
  if (was.includes("chatui-streaming") && !target.classList.contains("chatui-streaming")) drawDiagrams(target);
  else if (target === document.body && was.includes("body--dark") !== target.classList.contains("body--dark")) {
    drawDiagrams(document.body, true); // the theme changed: each diagram again, in its colours
  }
}

new MutationObserver((records) => {
  for (const record of records) {
    if (record.type === "attributes") changedClass(record);
    else for (const node of record.addedNodes) if (node instanceof Element) look(node);
  }
}).observe(document.body, {
  childList: true,
  subtree: true,
  attributes: true,
  attributeFilter: ["class"],
  attributeOldValue: true,
});
look(document.body);
