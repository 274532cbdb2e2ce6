"""The knobs of an execution environment's life, with Lambda's documented values where it has them."""

from __future__ import annotations

from dataclasses import dataclass

DEBUG_TIMEOUT = 36_000.0  # seconds a debugged invocation may take (SAM CLI's MAX_DEBUG_TIMEOUT) [SAM §10]


@dataclass(frozen=True)
class Lifecycle:
    """The knobs of an environment's life. AWS documents the init limit; the rest it does not."""

    init_limit: float = 10.0  # seconds; then init is retried within the invocation [DOC §3.1]
    idle_reap: float = 600.0  # UNCONFIRMED: Lambda keeps idle environments "for a while" (minutes)
    shutdown_grace: float = 0.3  # UNCONFIRMED without extensions; seconds between SIGTERM and SIGKILL
    memory_check: float = 0.05  # seconds between resident-memory checks of busy environments
    # awslambdaric waits for the next event from a helper thread on python3.12+ (so signal handlers run
    # while idle): a thread per invocation, ~0.3 ms of CPU each here. Lambda sends no signal to a
    # function without extensions, so the emulator polls from the main thread unless asked.
    python_thread_polling: bool = False
    # Python environments are forked from a server that imported boto3 once (a cold start of a few
    # milliseconds, shared memory); False starts a new interpreter for each environment.
    python_fork_server: bool = True
    # How far Invoke API calls that wait for their function (RequestResponse) scale it past --concurrency:
    # Lambda's default account concurrency [DOC §7]; past it they are throttled (429). Counted per
    # function locally (AWS counts the whole account).
    account_concurrency: int = 1000
    # UNCONFIRMED (AWS: reuse "is not guaranteed"; back-to-back invocations are commonly seen on one
    # environment): an event that arrives while an environment has answered but not yet asked for the
    # next event (its runtime does so within a millisecond) waits for it instead of starting a cold one.
    # False: only environments already waiting in /next are reused.
    reuse_answering: bool = True
