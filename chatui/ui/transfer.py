"""Account menu items: **Export all** (a download from `GET /api/export`) and **Import** (a dialog).

The import dialog sends the chosen file from the browser straight to `POST /api/import` (a `fetch` with the session
cookie; NiceGUI's own upload element would pass it through the page's socket and memory instead), then shows the
job's progress and, at the end, its report. The job runs on the server: closing the dialog or the page does not stop
it, and the report is in `GET /api/import/{job_id}` for an hour.
"""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services
from chatui.transfer.jobs import ImportJob
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


def report_lines(job: ImportJob) -> list[str]:
    """What the import did, in words."""
    lines = [
        f"{job.conversations:,} conversations and {job.messages:,} messages imported.",
    ]
    if job.duplicates:
        lines.append(f"{job.duplicates:,} conversations were already here and were left as they are.")
    if job.skipped:
        lines.append(f"{job.skipped:,} hidden, tool or non-text messages and parts were left out.")
    lines += job.errors
    return lines


async def import_dialog(services: Services, signed_in: SignedIn) -> None:
    user_id = signed_in.user.id
    with ui.dialog() as dialog, ui.card().classes("chatui-dialog").mark("import-dialog"):
        ui.label("Import conversations").classes("text-lg font-medium").props("role=heading aria-level=2")
        ui.label(
            "A chatui export, ChatGPT's data export (the .zip or its conversations.json) or an Open WebUI chat "
            "export, up to 512 MB. Conversations already imported are skipped."
        ).classes("text-sm")
        picker = (
            ui.element("input")
            .props('type=file accept=".json,.zip,application/json,application/zip" aria-label="File to import"')
            .mark("import-file")
        )
        status = ui.label().classes("text-sm").props("role=status aria-live=polite").mark("import-status")
        bar = ui.linear_progress(value=0, show_value=False).props("aria-label='Import progress'").mark("import-bar")
        bar.visible = False
        report = ui.column().classes("gap-1 text-sm").mark("import-report")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Close", on_click=dialog.close).props("flat no-caps")
            start = ui.button("Import").props("unelevated no-caps").mark("import-start")

    following: list[ImportJob] = []

    def show(job: ImportJob) -> None:
        """Progress while it runs; the report when it ends."""
        bar.visible = True
        bar.value = job.bytes_read / job.total_bytes if job.total_bytes else 1.0
        if job.status == "running":
            status.text = f"Importing… {job.conversations:,} conversations so far."
            return
        poller.active = False
        bar.value = 1.0
        status.text = "Import finished." if job.status == "done" else "The import stopped."
        report.clear()
        with report:
            for line in report_lines(job):
                ui.label(line)
        start.enable()

    def follow(job: ImportJob) -> None:
        following[:] = [job]
        start.disable()
        poller.active = True
        show(job)

    async def upload() -> None:
        """The upload itself is authorised by `POST /api/import` (the session cookie), not by this page."""
        start.disable()
        report.clear()
        status.text = "Uploading…"
        answer = await ui.run_javascript(_UPLOAD % picker.id, timeout=UPLOAD_SECONDS)
        code, body = answer.get("status", 0), answer.get("body") or {}
        job = services.imports.get(user_id, body.get("job_id", "")) if code == 202 else None
        if job is None:
            status.text = str(body.get("detail") or f"The upload failed (HTTP {code}).")
            start.enable()
            return
        follow(job)

    with dialog:
        poller = ui.timer(POLL_SECONDS, lambda: show(following[0]) if following else None, active=False)
    start.on_click(upload)
    running = services.imports.running_for(user_id)
    if running is not None:  # opened again while an import goes on: follow that one
        follow(running)
    await dialog
    dialog.delete()
