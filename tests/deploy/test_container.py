"""The Dockerfile and deploy/compose.yaml, checked with what runs here: no container runtime does (the Docker CLI
has no daemon to talk to), so the Dockerfile is linted by hadolint (from the lock), its promises are read from it
(slim base, non-root user, /data a volume, the health check), and its health check command is run against a live
chatui with the image's environment; the compose file is read as YAML for what DEPLOY.md says it does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from testing.live import ROOT, LiveApp

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    """Every argument of the instruction `name` (continuation lines joined)."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [m.strip() for m in re.findall(rf"^{name}\s+(.*)$", joined, re.MULTILINE)]


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_runs_as_a_user_keeps_data_in_a_volume_and_checks_its_health():
    assert instruction("FROM") == ["python:3.11-slim"]
    (user,) = instruction("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert instruction("VOLUME") == ['["/data"]']
    assert "CHATUI_DATA_DIR=/data" in instruction("ENV")[0] and "CHATUI_HOST=0.0.0.0" in instruction("ENV")[0]
    assert instruction("ENTRYPOINT") == ['["chatui"]']
    ignored = (ROOT / ".dockerignore").read_text()
    assert "!data" not in ignored and ignored.splitlines()[2] == "*"  # a local data folder never reaches the image


def test_the_health_check_command_passes_against_a_live_chatui(tmp_path, ollama_server):
    (health,) = instruction("HEALTHCHECK")
    command = json.loads(health.split(" CMD ", 1)[1])
    app = LiveApp(tmp_path / "data", {"OLLAMA_BASE_URL": ollama_server[1].url}).start()
    try:
        env = {**os.environ, "CHATUI_PORT": str(app.port)}
        python = [sys.executable if command[0] == "python" else command[0], *command[1:]]
        assert subprocess.run(python, env=env, timeout=10, check=False).returncode == 0
    finally:
        app.stop()
    env = {**os.environ, "CHATUI_PORT": str(app.port)}  # stopped: the check must fail
    assert subprocess.run(python, env=env, capture_output=True, timeout=10, check=False).returncode != 0


def test_compose_runs_instances_on_postgresql_and_redis_behind_sticky_caddy():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    instances = [name for name in services if name.startswith("chatui-")]
    assert len(instances) == 2
    for name in instances:
        service = services[name]
        assert (ROOT / "deploy" / service["build"]["context"] / "Dockerfile").is_file()
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert "CHATUI_SECRET:?" in env["CHATUI_SECRET"]  # required, and the same for every instance
        assert env["CHATUI_TRUSTED_PROXIES"] == services["caddy"]["networks"]["default"]["ipv4_address"]
    assert set(services["chatui-1"]["depends_on"]) == {"postgres", "redis"}
    # the second waits for the first to be healthy, so the schema is migrated once
    assert services["chatui-2"]["depends_on"] == {"chatui-1": {"condition": "service_healthy"}}
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    assert "noeviction" in services["redis"]["command"]
    caddyfile = (ROOT / "deploy" / "Caddyfile.compose").read_text()
    assert all(f"{name}:8001" in caddyfile for name in instances) and "lb_policy cookie" in caddyfile
