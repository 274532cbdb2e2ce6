// The emulator's shortcut for Node.js environments, as the SDK channel is for Python's: an HTTPS request
// to one of the emulated API's callback hosts (https://{domainName}/{stage} as the code builds it from
// the event, https://{apiId}.execute-api.{region}.amazonaws.com/{stage}) goes to the local gateway
// instead, with the request exactly as the SDK signed it (the Host header kept): over plain HTTP, or,
// when the gateway serves TLS, over TLS with the callback host as the server name, so the certificate is
// checked for that name as on AWS (NODE_EXTRA_CA_CERTS trusts the local CA). Every other request goes
// its own way. Installed before the handler loads; the handler's code is untouched.
import http from "node:http";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";
import { isIP } from "node:net";

export function redirect(hosts, target, { tls = false } = {}) {
  const [targetHost, targetPort] = target.split(":");
  // One keep-alive agent for every redirected request, whichever client made it: code that makes a
  // client per invocation (AWS's samples do) then pays no connection, and no TLS handshake, per call.
  const agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const originalRequest = https.request;
  const originalGet = https.get;

  // https.request(options[, callback]) or (url[, options][, callback]), as Node documents it.
  function local(args) {
    let [first, second, third] = args;
    let options;
    let callback;
    if (typeof first === "string" || first instanceof URL) {
      const url = new URL(first);
      options = { hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}` };
      if (typeof second === "function") callback = second;
      else {
        options = { ...options, ...(second ?? {}) };
        callback = third;
      }
    } else {
      options = { ...(first ?? {}) };
      callback = second;
    }
    const host = options.hostname ?? (options.host ?? "").split(":")[0];
    const port = options.port && Number(options.port) !== 443 ? `:${options.port}` : "";
    const name = `${host}${port}`;
    if (!hosts.has(name)) return null;
    const headers = { ...(options.headers ?? {}) };
    if (!Object.keys(headers).some((key) => key.toLowerCase() === "host")) headers.host = name;
    if (tls) {
      const servername = isIP(host) ? undefined : host; // SNI is never an address
      const redirected = { ...options, host: targetHost, hostname: targetHost, port: targetPort, headers, servername, agent };
      return originalRequest.call(https, redirected, callback);
    }
    const redirected = { ...options, protocol: "http:", host: targetHost, hostname: targetHost, port: targetPort, headers, agent };
    delete redirected.servername;
    return http.request(redirected, callback);
  }

  https.request = function request(...args) {
    return local(args) ?? originalRequest.apply(this, args);
  };
  https.get = function get(...args) {
    const request = local(args);
    if (request === null) return originalGet.apply(this, args);
    request.end();
    return request;
  };
  syncBuiltinESMExports(); // so `import { request } from "node:https"` sees it too
}
