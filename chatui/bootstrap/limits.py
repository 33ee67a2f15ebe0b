"""The limits each service enforces, read from the settings (megabytes there, bytes here)."""

from __future__ import annotations

from chatui.config import Settings
from chatui.files.service import FileLimits
from chatui.knowledge.service import KnowledgeLimits
from chatui.transfer.attached import FileBounds
from chatui.transfer.jobs import ImportLimits

MB = 1024 * 1024


def import_limits(settings: Settings) -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.import_max_mb * MB,
        unpacked_bytes=settings.import_max_unpacked_mb * MB,
        inflation_ratio=settings.import_max_inflation,
        seconds=settings.import_max_seconds,
        memory_bytes=settings.import_max_memory_mb * MB,
        max_message_chars=settings.max_message_chars,
        files=FileBounds(
            max_bytes=settings.upload_max_mb * MB,
            quota_bytes=settings.files_quota_mb * MB,
            max_pixels=settings.image_max_pixels,
            max_pages=settings.pdf_max_pages,
        ),
    )


def file_limits(settings: Settings) -> FileLimits:
    return FileLimits(
        max_bytes=settings.upload_max_mb * MB,
        per_message=settings.attachments_per_message,
        quota_bytes=settings.files_quota_mb * MB,
        max_pixels=settings.image_max_pixels,
        max_pages=settings.pdf_max_pages,
    )


def knowledge_limits(settings: Settings) -> KnowledgeLimits:
    return KnowledgeLimits(
        max_bytes=settings.upload_max_mb * MB,
        pdf_seconds=settings.pdf_text_seconds,
        pdf_max_pages=settings.pdf_max_pages,
    )
