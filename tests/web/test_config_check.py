"""`chatcart config check` and config validation: one line naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from web.config import ConfigError, load_config, parse_config
from web.environment import load_environment

REPO = Path(__file__).resolve().parents[2]


def good() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def run_check(path: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "--config", str(path), "config", "check"],
        capture_output=True, text=True, cwd=path.parent, timeout=60,
        env={"PATH": "/usr/bin:/bin", "CHATCART_SECRET_KEY": "x", **env},
    )


def test_shipped_config_is_valid(tmp_path):
    target = tmp_path / "config.yaml"
    target.write_text((REPO / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = run_check(target)
    assert result.returncode == 0, result.stderr
    assert "config OK" in result.stdout


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["store"].update(colour="red"), "store.colour: unknown key"),
    (lambda c: c["delivery_methods"][0].update(fee="cheap"), "delivery_methods.0.fee"),
    (lambda c: c["delivery_methods"][0].update(fee=-5), "delivery_methods.0.fee"),
    (lambda c: c["flows"]["binding"].update(code_ttl_minutes=0), "flows.binding.code_ttl_minutes"),
    (lambda c: c["store"].update(timezone="Mars/Base"), "store.timezone"),
    (lambda c: c.update(delivery_methods=[*c["delivery_methods"], c["delivery_methods"][0]]),
     "duplicate code"),
])
def test_bad_file_stops_with_one_line_naming_the_key(tmp_path, mutate, expected):
    config = good()
    mutate(config)
    target = tmp_path / "config.yaml"
    target.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = run_check(target)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_yaml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("store: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        parse_config(["a"], "x")


def test_half_set_credentials_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="LINE_CHANNEL_ACCESS_TOKEN"):
        load_environment({"LINE_CHANNEL_SECRET": "s"}, var_dir=tmp_path)


def test_sandbox_only_without_credentials_or_base_urls(tmp_path):
    env = load_environment({}, var_dir=tmp_path)
    assert env.line_sandbox and env.messenger_sandbox
    env = load_environment({"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
                            "LINE_API_BASE": "http://127.0.0.1:9/"}, var_dir=tmp_path)
    assert not env.line_sandbox and env.line_api_base == "http://127.0.0.1:9"
    assert env.messenger_sandbox


def test_secret_key_generated_once_for_local_runs(tmp_path):
    first = load_environment({}, var_dir=tmp_path).secret_key
    assert len(first) >= 40
    assert load_environment({}, var_dir=tmp_path).secret_key == first
    assert load_environment({"CHATCART_SECRET_KEY": "k"}, var_dir=tmp_path).secret_key == "k"
