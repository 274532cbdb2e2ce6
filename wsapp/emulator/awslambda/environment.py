"""The variables an execution environment starts with: exactly the set Lambda sets, nothing inherited.

Lambda's own variables come first (lambda-runtime-reference §2.1, recorded from real python3.12 and
nodejs20.x functions), then the emulator's wiring (endpoints of the embedded services, the local
credentials), then the template's ``Environment`` and ``--env-vars`` overrides. Reserved keys cannot be
set by the template (§2.2), and nothing of the parent process's environment leaks in: no real AWS
credentials, no ``AWS_PROFILE``.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsapp.emulator.errors import EmulatorError, TemplateError
from wsapp.emulator.template.model import Account, FunctionSpec

if TYPE_CHECKING:
    from wsapp.emulator.awslambda.layers import ModulePath

SDK_V2 = "sdk-v2"  # the runtime folder's subfolder with the AWS SDK for JavaScript v2 (Node.js 16 and older)
LAST_SDK_V2_NODE = 16  # nodejs16.x is the last runtime whose image holds v2; 18 and later hold v3


def node_major(runtime: str) -> int | None:
    """``nodejs16.x`` → 16; None for a runtime that is not Node.js."""
    digits = runtime.removeprefix("nodejs").split(".")[0]
    return int(digits) if runtime.startswith("nodejs") and digits.isdigit() else None


# [DOC configuration-envvars] "Lambda reserves these keys; you can't set them in function configuration".
RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
# Lambda supplies its role's credentials; locally these stand in (pinned ones with --credentials).
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}
_SYSTEM_PATH = "/usr/local/bin:/usr/bin/:/bin"  # as in the base images, after /var/lang/bin [BASE]


def family(runtime: str) -> str:
    """``python``, ``nodejs`` or ``provided`` (the runtime families the emulator runs)."""
    for name in ("python", "nodejs", "provided"):
        if runtime.startswith(name):
            return name
    return runtime or "python"


def log_stream_name(now: float | None = None) -> str:
    """``2025/11/13/[$LATEST]d238428ccf7e4b03856c3d7181bd5a72``: one per environment [OBS §2.1]."""
    day = time.strftime("%Y/%m/%d", time.gmtime(now))
    return f"{day}/[$LATEST]{secrets.token_hex(16)}"


def lambda_variables(
    spec: FunctionSpec,
    account: Account,
    *,
    runtime_api: str,
    runtime_dir: Path,
    interpreter_dir: Path | None,
    paths: ModulePath | None = None,
    log_stream: str | None = None,
) -> dict[str, str]:
    """What Lambda itself sets for ``spec``'s environment, in the order AWS lists them.

    ``paths``: its dependencies' and layers' folders (``layers.py``), where Lambda has ``/opt/...``.
    """
    kind = family(spec.runtime)
    task = str(spec.code_root)
    opt_bin = [str(folder) for folder in paths.bin] if paths else []
    opt_lib = [str(folder) for folder in paths.lib] if paths else []
    path = ":".join([*([str(interpreter_dir)] if interpreter_dir else []), _SYSTEM_PATH, *opt_bin])
    lib = [str(runtime_dir), task, f"{task}/lib", *opt_lib]
    variables = {
        "_HANDLER": spec.handler,
        "AWS_REGION": account.region,
        "AWS_DEFAULT_REGION": account.region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream or log_stream_name(),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        **LOCAL_CREDENTIALS,
        "LAMBDA_TASK_ROOT": task,
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": path,
        "LD_LIBRARY_PATH": ":".join(lib),
        # The X-Ray daemon's address (nothing listens locally; the SDK sends UDP and moves on).
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "PWD": task,
        "SHLVL": "0",
    }
    if kind != "provided":
        variables["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{spec.runtime}"  # absent on OS-only runtimes
    if kind == "python":
        variables["LC_CTYPE"] = "C.UTF-8"
        # /var/runtime only, as AWS recorded it: the runtime's bootstrap puts the task root and /opt's
        # python folders on sys.path itself, then sets PYTHONPATH for the processes a handler starts.
        # Here bootstrap.py gets those folders as --path options (service.py).
        variables["PYTHONPATH"] = str(runtime_dir)
    if kind == "nodejs":
        node_dirs = [str(folder) for folder in paths.node] if paths else []
        # AWS's order (§2.1): layers' node{N}, layers' generic, the runtime's SDK, the runtime, the task
        # (the function's own node_modules, which sam build puts in the task root, before them all).
        # The runtime's SDK: v3 in Node.js 18 and later, v2 (aws-sdk) in 16 and older [DOC: "Lambda
        # runtimes", each runtime's SDK], so `require("aws-sdk")` fails on nodejs20.x as it does on AWS.
        major = node_major(spec.runtime)
        sdk = runtime_dir / SDK_V2 if major is not None and major <= LAST_SDK_V2_NODE else runtime_dir
        node_dirs += [str(sdk / "node_modules"), str(runtime_dir), task]
        variables["NODE_PATH"] = ":".join(node_dirs)
    return variables


def python_shared_variables(launch: Any) -> dict[str, str]:
    """What every Python environment has in common: the fork server starts with these (its locale,
    encoding and module search path are set when the interpreter starts, before any fork)."""
    return {
        "PATH": ":".join([str(launch.interpreter_dir), _SYSTEM_PATH]),
        "LANG": "en_US.UTF-8",
        "LC_CTYPE": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(launch.runtime_dir),
    }


def check_template_variables(spec: FunctionSpec) -> None:
    """A template that sets a reserved key fails to deploy; fail here the same way [AWS-REC §2.2]."""
    reserved = sorted(set(spec.environment) & RESERVED)
    if reserved:
        raise TemplateError(
            "Environment.Variables sets reserved keys that Lambda does not let functions modify: "
            + ", ".join(reserved),
            spec.logical_id,
        )


def compose(
    lambda_set: Mapping[str, str],
    wiring: Mapping[str, str],
    spec: FunctionSpec,
    overrides: Mapping[str, str] = {},
) -> dict[str, str]:
    """Lambda's variables, the emulator's wiring, then the template's and the user's (reserved keys
    stay Lambda's: ``mapUnion(customer, …, credentials, runtime, platform)`` [RIE §2.2])."""
    # As SAM CLI's --env-vars: a value overrides a variable the template declares; others are ignored.
    customer = {k: overrides.get(k, v) for k, v in spec.environment.items() if k not in RESERVED}
    merged = {**lambda_set, **wiring, **customer}
    for key in RESERVED & set(lambda_set):
        merged[key] = lambda_set[key]
    if "AWS_ACCESS_KEY_ID" in wiring:  # credentials pinned with --credentials replace the local ones
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            merged[key] = wiring.get(key, "")
    return merged


def read_env_vars_file(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """SAM CLI's ``--env-vars`` JSON: ``{"FunctionLogicalId": {...}, "Parameters": {...}}``."""
    try:
        data: Any = json.loads(Path(path).read_text())
    except OSError as exc:
        raise EmulatorError(f"--env-vars {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise EmulatorError(f"--env-vars {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise EmulatorError(f"--env-vars {path}: expected an object of objects (function id → variables)")
    out: dict[str, dict[str, str]] = {}
    for scope, variables in data.items():
        out[scope] = {str(k): _string(v) for k, v in variables.items()}
    return out


def overrides_for(spec: FunctionSpec, env_vars: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """``Parameters`` for every function, then the function's own entry (by logical id or name).

    Only variables the template declares for the function take these values (SAM CLI's rule).
    """
    return {
        **env_vars.get("Parameters", {}),
        **env_vars.get(spec.name, {}),
        **env_vars.get(spec.logical_id, {}),
    }


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
