"""The container image and its stand-ins, checked where no image can be built: the Dockerfile's rules
(what hadolint would hold us to, and ours), compose.yaml, the systemd units and the Procfile naming real
commands and settings, and deploy/run-local.sh running the image's commands from a fresh install."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
import sysconfig

import yaml

from core.config import Settings
from tests.fakes.processes import ROOT, clean_env, free_port
from unmeet.cli import _parser

DEPLOY = ROOT / "deploy"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())


def known_settings() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        names.update(choice.upper() for choice in getattr(alias, "choices", ()) if isinstance(choice, str))
    return names


def test_dockerfile_base_is_slim_and_pinned():
    bases = [args for word, args in DOCKERFILE if word == "FROM"]
    assert len(bases) == 1
    image, _, tag = bases[0].split()[0].partition(":")
    assert image == "python" and "slim" in tag
    assert re.match(r"^\d+\.\d+\.\d+-slim-[a-z]+$", tag) or "@sha256:" in bases[0], tag  # no floating tag


def test_dockerfile_runs_as_a_non_root_user_up_to_its_entry_point():
    words = [word for word, _ in DOCKERFILE]
    users = [args for word, args in DOCKERFILE if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert words.index("USER") < words.index("ENTRYPOINT")
    assert all(word not in ("RUN", "COPY", "ADD") for word in words[len(words) - words[::-1].index("USER"):])


def test_dockerfile_has_no_remote_add_no_secret_and_a_lean_install():
    assert not [args for word, args in DOCKERFILE if word == "ADD"]  # COPY only: no URLs, no archives unpacked
    env = " ".join(args for word, args in DOCKERFILE if word in ("ENV", "ARG"))
    assert not re.search(r"(TOKEN|SECRET|PASSWORD|API_KEY)", env), env
    runs = " ".join(args for word, args in DOCKERFILE if word == "RUN")
    assert "pip install --no-cache-dir ." in runs and "apt-get" not in runs
    for word, args in DOCKERFILE:  # everything copied exists (and tests/benchmarks stay out)
        if word == "COPY":
            *sources, _target = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source.split("/")[0] not in ("tests", "benchmarks", ".venv")


def test_dockerfile_starts_unmeet_serve_and_checks_healthz():
    entry = [args for word, args in DOCKERFILE if word == "ENTRYPOINT"]
    command = [args for word, args in DOCKERFILE if word == "CMD"]
    assert entry == ['["unmeet"]'] and command == ['["serve"]']  # exec form: signals reach unmeet
    health = [args for word, args in DOCKERFILE if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "CMD [" in health[0]
    assert "EXPOSE" in [word for word, _ in DOCKERFILE]


def test_compose_runs_postgres_migrations_serve_and_worker_with_real_settings():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "serve", "worker"}
    assert re.match(r"^postgres:\d+\.\d+", services["postgres"]["image"])
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["serve"]["command"] == ["serve", "--no-migrate"]
    assert services["worker"]["command"] == ["worker"]
    for name in ("serve", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert set(env) <= known_settings(), set(env) - known_settings()
        _parser().parse_args(services[name]["command"])
    assert services["worker"]["environment"]["UNMEET_WORKER_PORT"] == "3979"
    assert all(port.startswith("127.0.0.1:") for port in services["serve"]["ports"])  # local mode stays local


def test_systemd_units_and_procfile_run_real_commands_with_real_settings():
    commands = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text()
        assert re.search(r"^User=unmeet$", text, re.M), unit.name
        commands += re.findall(r"^ExecStart=\S+/unmeet (.+)$", text, re.M)
        for assignment in re.findall(r"^Environment=(\w+)=", text, re.M):
            assert assignment in known_settings(), (unit.name, assignment)
    commands += [line.split(":", 1)[1].strip().removeprefix("unmeet ")
                 for line in (DEPLOY / "Procfile").read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(set(commands)) == ["db upgrade", "serve --no-migrate", "worker"]
    for command in commands:
        _parser().parse_args(shlex.split(command))
    example = [line.split("=", 1)[0] for line in (DEPLOY / "unmeet.env.example").read_text().splitlines()
               if line and not line.startswith("#")]
    assert set(example) <= known_settings(), set(example) - known_settings()


async def test_the_images_commands_run_from_a_fresh_install(tmp_path):
    """deploy/run-local.sh: `pip install .` into a new virtualenv (this suite's packages stand in for the
    dependencies, so only the build backend comes from the index), then `unmeet db upgrade`, `unmeet serve`,
    the image's health check and /readyz, from a folder without the source."""
    env = clean_env(PORT=str(free_port()), PIP_OPTIONS="--no-deps", EXTRA_SITE=sysconfig.get_paths()["purelib"],
                    PYTHON=getattr(sys, "_base_executable", sys.executable), TMPDIR=str(tmp_path))
    env.pop("PYTHONPATH", None)
    process = await asyncio.create_subprocess_exec("bash", str(DEPLOY / "run-local.sh"), cwd=tmp_path, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    text = output.decode()
    assert process.returncode == 0, text
    assert 'run-local: ready: {"ready": true, "database": "migrated"' in text
    installed = re.search(r"run-local: ran (\S+)", text).group(1)
    assert not installed.startswith(str(ROOT)) and "site-packages" in installed  # the install ran, not the checkout
    assert os.listdir(tmp_path) == []  # it cleaned up after itself
