"""A private X display (Xvfb) for the desktop window's test: start it, list its windows, photograph it, and close a
window the way a window manager does when its × is clicked (a WM_DELETE_WINDOW message, not a kill)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageGrab


@dataclass(frozen=True)
class Window:
    id: int
    title: str
    width: int
    height: int
    x: int
    y: int


class Xvfb:
    """`Xvfb` on the first free display number (it picks and reports it through `-displayfd`)."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()  # written once the server accepts connections
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def windows(self) -> list[Window]:
        """Every named top-level window: its id, title and geometry."""
        tree = subprocess.run(
            ["xwininfo", "-root", "-children", "-display", self.display], capture_output=True, text=True, check=True
        ).stdout
        found = re.findall(r'^\s+(0x[0-9a-f]+) "(.*)": \(.*\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)', tree, re.MULTILINE)
        return [Window(int(wid, 16), title, int(w), int(h), int(x), int(y)) for wid, title, w, h, x, y in found]

    def screenshot(self, path: Path) -> Image.Image:
        image = ImageGrab.grab(xdisplay=self.display)
        image.save(path)
        return image

    def close(self, window: int) -> None:
        """Ask `window` to close, as a window manager relays a click on its ×."""
        xlib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XInternAtom.restype = ctypes.c_ulong
        xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        xlib.XFlush.argtypes = [ctypes.c_void_p]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        connection = xlib.XOpenDisplay(self.display.encode())
        if not connection:
            raise RuntimeError(f"cannot open display {self.display}")
        try:
            event = _ClientMessage(
                type=33,  # ClientMessage
                display=connection,
                window=window,
                message_type=xlib.XInternAtom(connection, b"WM_PROTOCOLS", 0),
                format=32,
            )
            event.data[0] = xlib.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
            event.data[1] = 0  # CurrentTime
            xlib.XSendEvent(connection, window, 0, 0, ctypes.byref(_Event(client=event)))
            xlib.XFlush(connection)
        finally:
            xlib.XCloseDisplay(connection)


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _Event(ctypes.Union):
    _fields_ = [("client", _ClientMessage), ("pad", ctypes.c_long * 24)]
