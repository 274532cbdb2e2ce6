// The peer's Node.js handler: the same behaviour as handler.py, with the AWS SDK for JavaScript v3.
//
// $connect and $disconnect answer 200; `marco` is answered through the Management API with
// PostToConnectionCommand; `ping` (a two-way route) returns its reply as the route response. The
// endpoint is serverless-offline's WebSocket port, given by the bench in PEER_MANAGEMENT_ENDPOINT.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi"

const management = new ApiGatewayManagementApiClient({
  endpoint: process.env.PEER_MANAGEMENT_ENDPOINT,
  region: process.env.AWS_REGION || "us-east-1",
})
const OK = { statusCode: 200 }

export const handler = async (event) => {
  const request = event.requestContext || {}
  if (request.eventType !== "MESSAGE") return OK
  let payload = null
  try {
    payload = JSON.parse(event.body || "")
  } catch {
    payload = null
  }
  const action = payload && typeof payload === "object" ? payload.action : undefined
  const ts = new Date().toISOString()
  if (action === "ping") {
    return { statusCode: 200, body: JSON.stringify({ action: "pong", ts }) }
  }
  if (action === "marco") {
    const reply = { action: "polo", ts }
    if (typeof payload.id === "string" || typeof payload.id === "number") reply.id = payload.id
    await management.send(
      new PostToConnectionCommand({ ConnectionId: request.connectionId, Data: JSON.stringify(reply) }),
    )
  }
  return OK
}
