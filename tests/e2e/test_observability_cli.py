"""`vfl coordinator serve --log-format json` as a user runs it: a real process whose
[metrics] endpoint answers a scrape over HTTP and whose every log line is one JSON object."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.e2e.deployment import VFL


def test_coordinator_serve_logs_json_and_serves_metrics(tmp_path: Path) -> None:
    config = tmp_path / "coordinator.toml"
    config.write_text(
        'listen = "127.0.0.1:0"\ninsecure = true\ndatabase = "sqlite:///c.db"\n'
        '[metrics]\nenabled = true\nlisten = "127.0.0.1:0"\n'
    )
    proc = subprocess.Popen(
        [*VFL, "-v", "coordinator", "serve", "--config", str(config), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if "metrics on " in line:
                url = line.rsplit("metrics on ", 1)[1].strip()
                break
        assert url.startswith("http://127.0.0.1:"), "no metrics line on stdout"
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert 'vfl_coordinator_jobs{state="pending"} 0.0' in text
    assert "vfl_coordinator_parties_connected 0.0" in text
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(line["message"].startswith("coordinator serving on") for line in lines)
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
