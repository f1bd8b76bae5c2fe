"""Reading the project's TOML files (job configs, data specifications, header mappings,
delivery manifests, exercise rates): any reason one cannot be read is a message naming it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from matching.errors import ConfigError, UserError


def read_toml(path: Path, what: str = "file", error: type[UserError] = ConfigError) -> dict[str, Any]:
    """``path`` parsed, or ``error`` saying why it cannot be: missing, a folder, unreadable,
    not UTF-8 or not valid TOML (``what`` names the kind of file, e.g. "mapping file")."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found.") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}.\n  Fix: name the TOML file itself.") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc}).\n  Fix: check it exists and you may read it.") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start + 1}).\n  Fix: save the {what} as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}\n  Fix: correct the syntax at that line.") from None
