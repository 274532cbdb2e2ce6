"""TLS for the local stage: ``wss://`` and ``https://``, as API Gateway serves them (it serves no plain HTTP).

A local certificate authority, made once by trustme and kept, signs a fresh server certificate each
time a gateway starts, for ``localhost``, ``127.0.0.1``, ``::1`` and the API's own host names
(``{apiId}.execute-api.{region}.amazonaws.com``, the custom domain). Clients trust the CA's
certificate (``ca.pem``); the CA's key stays in its folder.

Where the CA lives: ``$WSAPP_TLS_DIR``, else ``$XDG_DATA_HOME/wsapp/tls`` (``~/.local/share/wsapp/tls``),
the user's data folder, as mkcert keeps its CAROOT: one CA per user, so a browser or an OS trust store
told once to trust it keeps working for every project and every restart, and its key is never inside a
project tree that gets committed, copied or shared. Not a cache folder: deleting it makes a new CA that
every client has to be told about again. The folder is 0700 and the key 0600.
"""

from __future__ import annotations

import datetime
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wsapp.emulator.errors import EmulatorError

DIR_VARIABLE = "WSAPP_TLS_DIR"
CA_FILE, KEY_FILE = "ca.pem", "ca-key.pem"
TRUST_FILE = "trust.pem"  # the CA and the usual public roots: what the functions verify with
ORGANIZATION = "wsapp local development CA"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Short-lived server certificates: macOS and iOS refuse TLS certificates valid for over 825 days,
# even under a root the user installed. A new one is issued at every start anyway.
SERVER_VALIDITY = datetime.timedelta(days=30)


def default_folder() -> Path:
    """``$WSAPP_TLS_DIR``, else the user's data folder (see the module's docstring for why)."""
    explicit = os.environ.get(DIR_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "wsapp" / "tls"


@dataclass(frozen=True)
class LocalCA:
    folder: Path

    @property
    def cert_path(self) -> Path:
        """The CA certificate (PEM): what a client is told to trust."""
        return self.folder / CA_FILE

    @property
    def trust_path(self) -> Path:
        """The CA certificate followed by the public roots this Python trusts (``SSL_CERT_FILE``
        replaces the default roots, ``NODE_EXTRA_CA_CERTS`` adds to them)."""
        return self.folder / TRUST_FILE

    @classmethod
    def load_or_create(cls, folder: str | os.PathLike[str] | None = None) -> LocalCA:
        """The CA in ``folder`` (the default one if None), made there first if it is not there yet."""
        target = Path(folder).expanduser() if folder is not None else default_folder()
        ca = cls(target)
        if not (target / CA_FILE).is_file() or not (target / KEY_FILE).is_file():
            _create(target)
        ca._write_trust()
        return ca

    def server_context(self, names: Iterable[str]) -> ssl.SSLContext:
        """A server context whose certificate, signed by this CA, is valid for ``names``."""
        import trustme

        try:
            authority = trustme.CA.from_pem(
                self.cert_path.read_bytes(), (self.folder / KEY_FILE).read_bytes()
            )
        except (OSError, ValueError) as exc:
            raise EmulatorError(f"cannot read the local CA in {self.folder}: {exc}") from None
        now = datetime.datetime.now(datetime.UTC)
        leaf = authority.issue_cert(
            *dict.fromkeys(names),
            organization_name=ORGANIZATION,
            not_before=now - datetime.timedelta(days=1),
            not_after=now + SERVER_VALIDITY,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # ssl loads a key only from a file: a moment in the CA's own folder (0700), then deleted.
        with leaf.private_key_and_cert_chain_pem.tempfile(dir=str(self.folder)) as path:
            context.load_cert_chain(path)
        return context

    def _write_trust(self) -> None:
        roots = _public_roots()
        bundle = self.cert_path.read_bytes().rstrip(b"\n") + b"\n"
        if roots is not None:
            bundle += roots
        if self.trust_path.is_file() and self.trust_path.read_bytes() == bundle:
            return
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".trust-")
        with os.fdopen(handle, "wb") as out:
            out.write(bundle)
        os.chmod(temporary, 0o644)
        os.replace(temporary, self.trust_path)  # atomic: a gateway starting meanwhile reads either


def _create(target: Path) -> None:
    """Make the CA in a fresh 0700 folder beside ``target`` and move it into place in one rename, so two
    gateways starting at once agree on one CA (the second one's rename fails; it uses the first's)."""
    import trustme

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    except OSError as exc:
        raise EmulatorError(f"cannot create the local CA folder {target}: {exc.strerror}") from None
    try:
        authority = trustme.CA(organization_name=ORGANIZATION)
        authority.cert_pem.write_to_path(str(staging / CA_FILE))
        key = staging / KEY_FILE
        key.touch(mode=0o600)
        authority.private_key_pem.write_to_path(str(key))
        (staging / CA_FILE).chmod(0o644)
        try:
            os.rename(staging, target)  # onto a missing or empty folder only
        except OSError:
            if not (target / CA_FILE).is_file():
                raise
    except OSError as exc:
        raise EmulatorError(f"cannot create the local CA in {target}: {exc.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _public_roots() -> bytes | None:
    """The roots this Python verifies with by default: certifi's (botocore's and requests' choice),
    else OpenSSL's default file."""
    try:
        import certifi

        return Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        pass
    cafile = ssl.get_default_verify_paths().cafile
    try:
        return Path(cafile).read_bytes() if cafile else None
    except OSError:
        return None
