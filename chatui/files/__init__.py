"""Attachments: receiving an upload, finding out what it really is, storing it, and handing it back to its owner."""
