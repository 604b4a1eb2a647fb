"""Build the Teams app package: a zip of manifest.json, color.png and outline.png.

The committed manifest carries a placeholder GUID; each deployment has its own Azure bot
registration, so the real app id is filled in here (as the app `id` and the bot's `botId`).
Pure Python on purpose: building a package must not need botbuilder or a Teams toolkit.
"""

import json
import re
import zipfile
from pathlib import Path

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "manifest" / "teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def build_package(app_id: str, out_path: Path, manifest_dir: Path | None = None) -> Path:
    """Write the zip to `out_path` with `app_id` filled in; return `out_path`."""
    if not isinstance(app_id, str) or not GUID.fullmatch(app_id) or app_id == PLACEHOLDER_ID:
        raise ValueError(
            f"The Teams app id must be the bot's Microsoft App ID, a GUID like "
            f"'1b4f6c2e-8d3a-4f5b-9c7e-2a1d0e3f4b5c'; got {app_id!r}."
        )
    source = Path(manifest_dir) if manifest_dir is not None else MANIFEST_DIR
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        # Teams expects the three files at the root of the zip, not in a folder.
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for icon in (manifest["icons"]["color"], manifest["icons"]["outline"]):
            package.write(source / icon, arcname=icon)
    return out_path
