// An MCP client from another implementation than jasni's (the reference
// TypeScript SDK), for the end-to-end test of `jasni mcp`:
//
//   node client.mjs JASNI_BINARY STEP [ARG]
//
// spawns `jasni mcp` over stdio, runs one step, and prints one JSON line
// with what it saw. Steps: tools (list the tools), trigger URL (every
// Jasni event at URL), history (list_deliveries, then get_delivery of
// each), refused URL (trigger at a URL that is not on this machine).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [binary, step, arg] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: binary, args: ["mcp"], env: process.env, stderr: "inherit" });
const client = new Client({ name: "jasni-e2e", version: "1.0.0" });
await client.connect(transport);

// call returns the structured output, checking that the text content is
// that same JSON and nothing else.
async function call(name, args) {
  const res = await client.callTool({ name, arguments: args });
  const text = res.content?.[0]?.text ?? "";
  if (res.isError) return { error: text };
  if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(res.structuredContent)) {
    throw new Error(`${name}: the text is not the structured output: ${text}`);
  }
  return res.structuredContent;
}

let out;
switch (step) {
  case "tools": {
    const { tools } = await client.listTools();
    out = tools.map((t) => ({ name: t.name, readOnly: t.annotations?.readOnlyHint ?? false, openWorld: t.annotations?.openWorldHint ?? true }));
    break;
  }
  case "trigger":
    out = await call("trigger", { all: true, url: arg });
    break;
  case "refused":
    out = await call("trigger", { events: ["email.received"], url: arg });
    break;
  case "history": {
    const list = await call("list_deliveries", { limit: 50 });
    const details = [];
    for (const d of list.deliveries) details.push(await call("get_delivery", { id: d.id }));
    out = { list, details };
    break;
  }
  default:
    throw new Error(`unknown step ${step}`);
}
console.log(JSON.stringify(out));
await client.close();
