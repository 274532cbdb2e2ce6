"""A PEP 517 build backend for the one-module ``greeting`` package: a wheel is a zip of the module and
its ``.dist-info`` (METADATA, WHEEL, RECORD)."""

import base64
import hashlib
import zipfile
from pathlib import Path

NAME, VERSION = "greeting", "1.0"
ROOT = Path(__file__).resolve().parents[1]
TAG = "py3-none-any"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}.py": (ROOT / f"{NAME}.py").read_bytes(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: greeting_backend\nRoot-Is-Purelib: true\nTag: {TAG}\n"
        ).encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = f"{NAME}-{VERSION}-{TAG}.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel
