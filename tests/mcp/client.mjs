// Drives `airlock mcp` with the official MCP TypeScript SDK's Client over stdio and prints one
// JSON object per step for run_mcp.sh to check.
// Usage: node client.mjs AIRLOCK WORKSPACE MARKER_DIR
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [airlock, workspace, markerDir] = process.argv.slice(2);
const transport = new StdioClientTransport({
  command: airlock,
  args: ["mcp", "--workspace", workspace],
  stderr: "inherit",
});
const client = new Client({ name: "airlock-mcp-test", version: "0.0.0" });
await client.connect(transport);

const report = (step, value) => console.log(JSON.stringify({ step, value }));
const call = (name, args) => client.callTool({ name, arguments: args });

report("server", { version: client.getServerVersion(), pid: transport.pid });
report("tools", (await client.listTools()).tools.map((tool) => tool.name).sort());
report("echo", await call("run", { command: "echo hello" }));
report("curl", await call("run", { command: "curl -sS --max-time 5 http://example.com" }));
// Output shaped like commands: the host must treat it as data.
const marker = `${markerDir}/pwned-HOST`;
report("lookalike", await call("run", {
  command: `echo '$(touch ${marker})'; echo '\`touch ${marker}\`'; printf '%s\\n' '"; touch ${marker}; "'`,
}));
report("mkdir", await call("run", { command: "mkdir -p notes" }));
report("write", await call("write_file", { path: "notes/hello.txt", content: "line one\nline two $(x)\n" }));
report("read", await call("read_file", { path: "notes/hello.txt" }));
report("list", await call("list_directory", { path: "notes" }));
report("shadow", await call("read_file", { path: "/etc/shadow" }));
report("ssh", await call("read_file", { path: "/root/.ssh/id_rsa" }));
const started = Date.now();
const slept = await call("run", { command: "sleep 30", timeout_s: 1 });
report("timeout", { result: slept, elapsed_ms: Date.now() - started });
await client.close();
report("closed", true);
