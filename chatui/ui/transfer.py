"""Account menu items: **Export all** (a download from `GET /api/export`) and **Import** (a dialog).

The import dialog's file picker is a drop zone (a file dragged onto it is chosen, `static/chatui.js`; a click opens the
browser's picker). It sends the chosen file from the browser straight to `POST /api/import` (a `fetch` with the session
cookie; NiceGUI's own upload element would pass it through the page's socket and memory instead), then shows the
job's progress and, at the end, its report. The job runs on the server: closing the dialog or the page does not stop
it, and the report is in `GET /api/import/{job_id}` for an hour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from chatui.bootstrap import Services
from chatui.transfer.board import ImportJob
from chatui.ui.wording import counted
from storage import SignedIn

POLL_SECONDS = 0.5
UPLOAD_SECONDS = 3600
_UPLOAD = """
const input = getHtmlElement(%d);
if (!input || !input.files.length) return {status: 0, body: {detail: "Choose a file first."}};
const data = new FormData();
data.append("file", input.files[0]);
try {
  const response = await fetch("/api/import", {method: "POST", body: data, credentials: "same-origin"});
  let body = {};
  try { body = await response.json(); } catch (e) {}
  return {status: response.status, body: body};
} catch (e) {
  return {status: 0, body: {detail: "The upload did not reach the server."}};
}
"""


def export_all() -> None:
    """The browser downloads every conversation as one chatui/1 JSON file (the route checks the session)."""
    ui.download.from_url("/api/export")


def headline(job: ImportJob) -> str:
    """How the import ended, in one line: "finished" only when something was imported or nothing failed."""
    if job.status == "failed":
        return f"The import failed: {job.errors[-1]}" if job.errors else "The import failed."
    if job.errors and not (job.conversations or job.presets or job.prompts):
        return "Nothing was imported: no conversation of the file could be read (why, below)."
    if job.errors:
        return "Import finished, but some of the file could not be imported (why, below)."
    return "Import finished."


def _were(number: int) -> str:
    return "was" if number == 1 else "were"


def report_lines(job: ImportJob) -> list[str]:
    """What the import did, in words (a whole file's failure is in the headline, not again here)."""
    errors = job.errors[:-1] if job.status == "failed" else job.errors
    lines = [
        f"{counted(job.conversations, 'conversation')} and {counted(job.messages, 'message')} imported.",
    ]
    if job.duplicates:
        already = counted(job.duplicates, "conversation")
        lines.append(f"{already} {_were(job.duplicates)} already here and left unchanged.")
    if job.skipped:
        lines.append(f"{job.skipped:,} hidden, tool or non-text messages and parts were left out.")
    if job.cut:
        cut = counted(job.cut, "message")
        lines.append(f"{cut} longer than chatui keeps {_were(job.cut)} cut; each says so at its end.")
    if job.presets or job.prompts:
        lines.append(f"{counted(job.presets, 'preset')} and {counted(job.prompts, 'saved prompt')} imported.")
    lines += errors
    return lines


async def import_dialog(
    services: Services, signed_in: SignedIn, on_imported: Callable[[], Awaitable[None]] | None = None
) -> None:
    """`on_imported`: called when an import that stored something ends (the chat page lists the new
    conversations)."""
    user_id = signed_in.user.id
    with (
        ui.dialog().props('aria-label="Import conversations"') as dialog,
        ui.card().classes("chatui-dialog").mark("import-dialog"),
    ):
        ui.label("Import conversations").classes("text-lg font-medium").props("role=heading aria-level=2")
        ui.label(
            "A chatui export, ChatGPT's data export (the .zip or its conversations.json), an Open WebUI chat "
            "export or a LibreChat conversation (JSON), up to 512 MB. Conversations already imported are skipped."
        ).classes("text-sm")
        with ui.element("label").classes("chatui-drop").mark("import-drop"):
            ui.icon("upload_file", size="md").classes("chatui-drop-icon")
            ui.label("Drop the file here, or choose one").classes("chatui-drop-hint")
            ui.label().classes("chatui-drop-name").props('aria-live="polite"').mark("import-file-name")
            picker = (
                ui.element("input")
                .props('type=file accept=".json,.zip,application/json,application/zip" aria-label="File to import"')
                .classes("chatui-drop-input")
                .mark("import-file")
            )
        status = ui.label().classes("text-sm").props("role=status aria-live=polite").mark("import-status")
        bar = ui.linear_progress(value=0, show_value=False).props("aria-label='Import progress'").mark("import-bar")
        bar.visible = False
        report = ui.column().classes("gap-1 text-sm").mark("import-report")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Close", on_click=dialog.close).props("flat no-caps")
            start = ui.button("Import").props("unelevated no-caps").mark("import-start")

    following: list[str] = []
    """The id of the job the dialog follows (its state is asked for anew: it may run on another instance)."""

    async def show(job: ImportJob) -> None:
        """Progress while it runs; the report when it ends."""
        bar.visible = True
        bar.value = job.bytes_read / job.total_bytes if job.total_bytes else 1.0
        if job.status == "running":
            status.text = f"Importing… {counted(job.conversations, 'conversation')} so far."
            return
        poller.active = False
        bar.visible = False  # ended: the report below says what happened (a full bar mid-animation read as stuck)
        status.text = headline(job)
        status.classes(remove="chatui-error-text")
        if job.status == "failed" or (job.errors and not job.conversations):
            status.classes(add="chatui-error-text")
        report.clear()
        with report:
            for line in report_lines(job):
                ui.label(line)
        start.enable()
        if on_imported is not None and job.conversations:
            await on_imported()

    async def refresh() -> None:
        job = await services.imports.get(user_id, following[0]) if following else None
        if job is not None:
            await show(job)

    async def follow(job: ImportJob) -> None:
        following[:] = [job.id]
        start.disable()
        poller.active = True
        await show(job)

    async def upload() -> None:
        """The upload itself is authorised by `POST /api/import` (the session cookie), not by this page."""
        start.disable()
        report.clear()
        status.classes(remove="chatui-error-text")
        status.text = "Uploading…"
        answer = await ui.run_javascript(_UPLOAD % picker.id, timeout=UPLOAD_SECONDS)
        code, body = answer.get("status", 0), answer.get("body") or {}
        job = await services.imports.get(user_id, body.get("job_id", "")) if code == 202 else None
        if job is None:
            status.text = str(body.get("detail") or f"The upload failed (HTTP {code}).")
            status.classes(add="chatui-error-text")
            start.enable()
            return
        await follow(job)

    with dialog:
        poller = ui.timer(POLL_SECONDS, refresh, active=False)
    start.on_click(upload)
    running = await services.imports.running_for(user_id)
    if running is not None:  # opened again while an import goes on: follow that one
        await follow(running)
    await dialog
    dialog.delete()
