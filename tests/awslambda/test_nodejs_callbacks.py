"""A Node.js function's ``@connections`` client (the AWS SDK for JavaScript v3) reaches the local gateway
however its code builds the endpoint, over plain HTTP and with the gateway serving TLS (callbacks.mjs)."""

from __future__ import annotations

# ruff: noqa: E501 - the handler's source is kept on readable lines
import json

import pytest
import websocket

from wsapp.emulator import LocalGateway

pytestmark = [pytest.mark.usefixtures("node_runtime"), pytest.mark.timeout(60)]

HANDLER = """\
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";

export const handler = async (event) => {
  const ctx = event.requestContext;
  if (ctx.eventType !== "MESSAGE") return { statusCode: 200 };
  const how = JSON.parse(event.body).how;
  const apiHost = `${ctx.apiId}.execute-api.${process.env.AWS_REGION}.amazonaws.com`;
  const endpoint = {
    env: undefined, // AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI
    domain: `https://${ctx.domainName}/${ctx.stage}`,
    "domain-slash": `https://${ctx.domainName}/${ctx.stage}/`, // the SDK then sends /{stage}//@connections/{id}
    "api-id": `https://${apiHost}/${ctx.stage}`,
    "api-id-slash": `https://${apiHost}/${ctx.stage}/`,
  }[how];
  const client = new ApiGatewayManagementApiClient(endpoint ? { endpoint } : {});
  try {
    await client.send(new PostToConnectionCommand({ ConnectionId: ctx.connectionId, Data: JSON.stringify({ via: how }) }));
    return { statusCode: 200, body: "posted" };
  } catch (error) {
    return { statusCode: 200, body: `${error.name}: ${error.message}` };
  }
};
"""
HOWS = ["env", "domain", "domain-slash", "api-id", "api-id-slash"]


@pytest.fixture(scope="module")
def template(module_node_app):
    app = module_node_app
    app.file("callbacks/index.mjs", HANDLER)
    return app.function("Fn", "index.handler", "callbacks").route("$default", "Fn", two_way=True).write()


# "signed": callers must sign with pinned credentials, so the signature the JS SDK computed for a path
# with an empty segment is checked against the one botocore's signer computes for it.
@pytest.fixture(scope="module", params=["http", "tls", "signed"])
def gateway(request, template, tmp_path_factory):
    options = {"tls": request.param == "tls", "tls_dir": tmp_path_factory.mktemp("tls")}
    if request.param == "signed":
        options["credentials"] = ("AKIDLOCALNODE", "node-secret")
    with LocalGateway(template, dynamodb=False, isolation="process", **options) as gw:
        yield gw


@pytest.mark.parametrize("how", HOWS)
def test_a_post_reaches_the_connection_whatever_endpoint_the_code_builds(gateway, how):
    sslopt = {"ca_certs": gateway.ca_bundle} if gateway.tls else None
    ws = websocket.create_connection(gateway.url, timeout=15, sslopt=sslopt)
    try:
        ws.send(json.dumps({"how": how}))
        assert [json.loads(ws.recv()), ws.recv()] == [{"via": how}, "posted"]  # the post, then the reply
    finally:
        ws.close()


def test_with_tls_the_environment_trusts_the_local_ca_and_the_endpoint_is_https(gateway):
    environment = gateway.runtimes["Fn"].environment
    if gateway.tls:
        assert environment["NODE_EXTRA_CA_CERTS"] == gateway.ca_bundle
        assert environment["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"].startswith("https://127.0.0.1:")
    else:
        assert not {"NODE_EXTRA_CA_CERTS", "AWS_CA_BUNDLE", "SSL_CERT_FILE"} & set(environment)
        assert environment["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"].startswith("http://127.0.0.1:")
