"""The connection store: who is connected, in the DynamoDB table that template.yaml declares.

Rows carry a TTL so that a connection whose ``$disconnect`` never ran (API Gateway delivers it on a
best-effort basis) expires shortly after API Gateway's 2-hour connection cap.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config

from wsapp.errors import ConfigError

TABLE_ENV = "CONNECTIONS_TABLE"
MAX_CONNECTION_SECONDS = 2 * 60 * 60  # API Gateway's hard limit on a connection's duration
TTL_SLACK_SECONDS = 5 * 60


@dataclass(frozen=True)
class ConnectionRecord:
    connectionId: str
    principalId: str
    connectedAt: int
    sourceIp: str

    @property
    def expires_at(self) -> int:
        """The TTL attribute: epoch seconds after which DynamoDB may delete the row."""
        return self.connectedAt // 1000 + MAX_CONNECTION_SECONDS + TTL_SLACK_SECONDS


class ConnectionStore(Protocol):
    def put(self, record: ConnectionRecord) -> None: ...
    def get(self, connection_id: str) -> ConnectionRecord | None: ...
    def delete(self, connection_id: str) -> None: ...
    def connection_ids(self) -> Iterator[str]: ...


class MemoryConnectionStore:
    """The same interface in a dict, for unit tests and notebooks."""

    def __init__(self) -> None:
        self._rows: dict[str, ConnectionRecord] = {}
        self._lock = threading.Lock()

    def put(self, record: ConnectionRecord) -> None:
        with self._lock:
            self._rows[record.connectionId] = record

    def get(self, connection_id: str) -> ConnectionRecord | None:
        return self._rows.get(connection_id)

    def delete(self, connection_id: str) -> None:
        with self._lock:
            self._rows.pop(connection_id, None)

    def connection_ids(self) -> Iterator[str]:
        with self._lock:
            ids = list(self._rows)
        return iter(ids)


_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


class DynamoConnectionStore:
    """Rows keyed by ``connectionId``; ``expiresAt`` is the table's TTL attribute."""

    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:  # concurrent first calls must not each build a client (costly)
                if self._client is None:
                    self._client = boto3.client("dynamodb", config=_CONFIG)
        return self._client

    def put(self, record: ConnectionRecord) -> None:
        item = {
            "connectionId": {"S": record.connectionId},
            "principalId": {"S": record.principalId},
            "connectedAt": {"N": str(record.connectedAt)},
            "sourceIp": {"S": record.sourceIp},
            "expiresAt": {"N": str(record.expires_at)},
        }
        self.client.put_item(TableName=self.table_name, Item=item)

    def get(self, connection_id: str) -> ConnectionRecord | None:
        answer = self.client.get_item(
            TableName=self.table_name, Key={"connectionId": {"S": connection_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        if item is None:
            return None
        return ConnectionRecord(
            connectionId=item["connectionId"]["S"],
            principalId=item["principalId"]["S"],
            connectedAt=int(item["connectedAt"]["N"]),
            sourceIp=item["sourceIp"]["S"],
        )

    def delete(self, connection_id: str) -> None:
        # Deleting an absent key succeeds in DynamoDB, which keeps $disconnect idempotent.
        self.client.delete_item(TableName=self.table_name, Key={"connectionId": {"S": connection_id}})

    def connection_ids(self) -> Iterator[str]:
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table_name, ProjectionExpression="connectionId"):
            for item in page.get("Items", []):
                yield item["connectionId"]["S"]


_stores: dict[str, DynamoConnectionStore] = {}


def store_from_env(env: Mapping[str, str] = os.environ) -> DynamoConnectionStore:
    """The container's store for the table named in ``CONNECTIONS_TABLE`` (created once)."""
    table = env.get(TABLE_ENV)
    if not table:
        raise ConfigError(f"{TABLE_ENV} is not set: the function needs the connection table's name")
    store = _stores.get(table)
    if store is None:
        store = _stores.setdefault(table, DynamoConnectionStore(table))
    return store


def record_as_dict(record: ConnectionRecord) -> dict[str, Any]:
    return asdict(record)
