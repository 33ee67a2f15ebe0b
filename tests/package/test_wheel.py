"""The package as people install it: `python -m build` makes a wheel and an sdist, a fresh venv installs the wheel,
and its `chatui` command serves from a folder that is not the checkout, keeping its data in the user's data folder.

Fast by construction (~10 s): the build runs without isolation (setuptools and build are in the lock, so nothing is
downloaded), the venv comes from uv, and the wheel goes in with `--no-deps`; its dependencies are the locked ones
this interpreter runs on, reached through a `.pth` line rather than installed again (the point is the wheel's own
files: code, static files, migrations, the console script).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testing.live import ROOT, LiveApp
from testing.venvs import fresh_venv

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SHIPPED = (
    "chatui/__main__.py",
    "chatui/ui/static/chatui.css",
    "chatui/ui/static/katex/katex.min.js",
    "storage/migrations/env.py",
    "storage/migrations/script.py.mako",
    "storage/migrations/versions/0001_initial_schema.py",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and sdist of the checkout, as `python -m build` makes them (the wheel is built from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the wheel alone; the locked dependencies are on its path through `locked.pth`."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    fresh_venv(root, [next(dist.glob("chatui-*.whl"))], offline=True)
    return root


@pytest.fixture(scope="module")
def installed_app(venv: Path, tmp_path_factory: pytest.TempPathFactory, ollama_server) -> Iterator[LiveApp]:
    """`chatui` started in an empty folder with no --data-dir: its data goes to $XDG_DATA_HOME/chatui."""
    home = tmp_path_factory.mktemp("home")
    app = LiveApp(
        home / "xdg" / "chatui",
        {"XDG_DATA_HOME": str(home / "xdg"), "OLLAMA_BASE_URL": ollama_server[1].url},
        command=[str(venv / "bin" / "chatui")],
        cwd=home,
        data_dir_flag=False,
    ).start()
    yield app
    app.stop()


def test_the_wheel_and_sdist_carry_the_static_files_migrations_and_command(dist: Path) -> None:
    wheel = next(dist.glob(f"chatui-{VERSION}-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names
    entry_points = zipfile.ZipFile(wheel).read(f"chatui-{VERSION}.dist-info/entry_points.txt").decode()
    assert "chatui = chatui.launcher:main" in entry_points
    migrations = {n for n in names if n.startswith("storage/migrations/versions/") and n[-3:] == ".py"}
    assert len(migrations) - 1 == len(list((ROOT / "storage/migrations/versions").glob("0*.py")))  # + __init__.py
    with tarfile.open(next(dist.glob(f"chatui-{VERSION}.tar.gz"))) as sdist:
        assert {f"chatui-{VERSION}/{name}" for name in SHIPPED} <= set(sdist.getnames())


def test_the_installed_command_says_its_version(venv: Path) -> None:
    done = subprocess.run([venv / "bin" / "chatui", "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == f"chatui {VERSION}"


def test_the_installed_command_serves_from_outside_the_checkout(installed_app: LiveApp, venv: Path) -> None:
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import chatui; print(chatui.__file__)"],
        cwd=installed_app.cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)), where  # the wheel's code, not the checkout's
    assert httpx.get(f"{installed_app.url}/api/health").json() == {"status": "ok"}
    css = httpx.get(f"{installed_app.url}/chatui-static/chatui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    page = httpx.get(f"{installed_app.url}/login")
    assert page.status_code == 200 and "chatui" in page.text


def test_the_first_start_says_where_the_data_is_kept(installed_app: LiveApp) -> None:
    assert (installed_app.data_dir / "database.db").is_file()  # migrated from the wheel's scripts
    assert (installed_app.data_dir / "secret.key").is_file()
    assert f"kept in {installed_app.data_dir}" in installed_app.log()
    assert not (installed_app.cwd / "data").exists()
