// Inside the sandbox: one streamed Messages API request (node's fetch: transparent capture, TLS
// intercepted, NODE_EXTRA_CA_CERTS from airlock) with each read of the body timestamped, so the
// test can tell a stream relayed as it comes from one held back and delivered at once.
//   node stream_client.js URL HEADER ENVVAR   (the header's value is $ENVVAR: the placeholder)
// Prints one JSON line: status, reads, bursts (reads more than 80 ms after the one before, + 1),
// spread_ms (first read to last), deltas (content_block_delta events), text (the deltas joined).
const [url, header, variable] = process.argv.slice(2);
const started = performance.now();
const response = await fetch(url, {
  method: "POST",
  headers: {"content-type": "application/json", "anthropic-version": "2023-06-01", [header]: process.env[variable]},
  body: JSON.stringify({model: "claude-stand-in", max_tokens: 32, stream: true,
                        messages: [{role: "user", content: "say hi"}]}),
  signal: AbortSignal.timeout(20000),
});
const reader = response.body.getReader();
const decoder = new TextDecoder();
const arrivals = [];
let body = "";
for (;;) {
  const {done, value} = await reader.read();
  if (done) break;
  arrivals.push(performance.now() - started);
  body += decoder.decode(value, {stream: true});
}
let bursts = arrivals.length ? 1 : 0;
for (let i = 1; i < arrivals.length; i++) if (arrivals[i] - arrivals[i - 1] > 80) bursts++;
const deltas = [...body.matchAll(/"text_delta", "text": "([^"]*)"/g)].map((m) => m[1]);
console.log(JSON.stringify({
  status: response.status, reads: arrivals.length, bursts,
  spread_ms: Math.round(arrivals.length ? arrivals[arrivals.length - 1] - arrivals[0] : 0),
  deltas: deltas.length, text: deltas.join(""),
}));
