// Attachments on the chat page (chatui/ui/chat/attach.py). Files chosen with the paperclip, dropped anywhere on the
// page or pasted (an image from the clipboard) are posted from here straight to POST /api/files: same origin, so the
// session cookie goes with them and the browser's Origin header passes the cross-site check (chatui/web/csrf.py).
// The bytes never pass through the page's socket; the tray element ([data-attach-tray]) hears each file's progress,
// its stored id or the server's reason for refusing it as "attach" events, and the server draws the chips.
// The message box has a tray; the editor of a sent message has its own inside an element marked [data-attach-scope]:
// its paperclip, and a file dropped or pasted inside it, feed that tray; anywhere else, the message box's.
(() => {
  "use strict";
  const requests = new Map(); // key -> XMLHttpRequest of an upload in flight
  const dropped = new Set(); // keys whose upload was cancelled here (removed from the tray): nothing more to say
  let counter = 0;

  const tray = () =>
    Array.from(document.querySelectorAll("[data-attach-tray]")).find((t) => !t.closest("[data-attach-scope]"));
  /** The tray a file given at `node` goes to: its editor's, or the message box's. */
  const trayFor = (node) => {
    const scope = node instanceof Element ? node.closest("[data-attach-scope]") : null;
    return (scope && scope.querySelector("[data-attach-tray]")) || tray();
  };
  const tell = (trayId, detail) => {
    const element = document.getElementById(trayId);
    if (element) element.dispatchEvent(new CustomEvent("attach", { detail }));
  };

  function reason(xhr) {
    try {
      const body = JSON.parse(xhr.responseText);
      if (typeof body.detail === "string") return body.detail;
    } catch (_) {
      // not JSON: a proxy's page, say
    }
    if (xhr.status === 413) return "This file is larger than the server accepts.";
    return xhr.status ? `The upload failed (HTTP ${xhr.status}).` : "The upload failed: the server could not be reached.";
  }

  function upload(file, target) {
    counter += 1;
    const key = `u${Date.now().toString(36)}-${counter}`;
    const trayId = target.id; // its element may be drawn afresh meanwhile: found again by id at each word
    // Every word names the file: words said before the page's socket is up can reach the server out of order
    // (NiceGUI retries each on a timer of its own), and whichever comes first draws the chip.
    const about = { key, name: file.name, size: file.size };
    tell(trayId, { ...about, state: "uploading", progress: 0 });
    const xhr = new XMLHttpRequest();
    requests.set(key, xhr);
    let told = 0;
    xhr.upload.addEventListener("progress", (event) => {
      const now = performance.now();
      if (!event.lengthComputable || now - told < 200) return; // a few updates a second reach the server, not each
      told = now;
      tell(trayId, { ...about, state: "uploading", progress: event.loaded / event.total });
    });
    xhr.addEventListener("loadend", () => {
      requests.delete(key);
      if (dropped.delete(key)) return;
      if (xhr.status === 201) tell(trayId, { ...about, state: "done", file: JSON.parse(xhr.responseText) });
      else tell(trayId, { ...about, state: "failed", detail: reason(xhr) });
    });
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.open("POST", "/api/files");
    xhr.send(form);
  }

  const uploadAll = (files, target = tray()) => {
    if (!target) return;
    for (const file of files) upload(file, target);
  };

  /** Pasted screenshots all arrive as "image.png": each gets a name of its own. */
  function named(file, index) {
    if (file.name && file.name !== "image.png") return file;
    const extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, "-");
    return new File([file], `pasted-${stamp}${index ? `-${index + 1}` : ""}.${extension}`, { type: file.type });
  }

  window.chatuiAttach = {
    /** The server removed a chip whose file is still on its way: stop sending it. */
    abort(key) {
      const xhr = requests.get(key);
      if (xhr) {
        dropped.add(key);
        xhr.abort();
      }
    },
    upload: uploadAll,
  };

  document.addEventListener("click", (event) => {
    const pick = event.target instanceof Element ? event.target.closest("[data-attach-pick]") : null;
    const target = pick ? trayFor(pick) : null;
    const input = target ? target.querySelector("input[type=file]") : null;
    if (input) input.click();
  });
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.closest("[data-attach-tray]") || !input.files) return;
    uploadAll(Array.from(input.files), input.closest("[data-attach-tray]"));
    input.value = ""; // the same file can be chosen again
  });

  // An image pasted into the page; a paste that carries text as well (a spreadsheet's cells, say) stays text.
  document.addEventListener("paste", (event) => {
    const data = event.clipboardData;
    const target = trayFor(event.target);
    if (!target || !data || !data.files.length || data.types.includes("text/plain")) return;
    event.preventDefault();
    uploadAll(Array.from(data.files).map(named), target);
  });

  // Files dragged onto the page (not onto the import dialog's own drop zone, chatui.js).
  const carriesFiles = (event) =>
    tray() && event.dataTransfer && event.dataTransfer.types.includes("Files") &&
    !(event.target instanceof Element && event.target.closest(".chatui-drop"));
  let depth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    document.body.classList.add("chatui-dropping");
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) document.body.classList.remove("chatui-dropping");
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    depth = 0;
    document.body.classList.remove("chatui-dropping");
    if (!carriesFiles(event)) return;
    event.preventDefault();
    uploadAll(Array.from(event.dataTransfer.files), trayFor(event.target));
  });
})();
