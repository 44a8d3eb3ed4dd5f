// Play in the model lab: the session trains a chunk of epochs at a time over server-sent
// events (GET /api/models/{id}/stream), each epoch's snapshot as it comes. One request per
// chunk; the next opens when the server says the chunk ended, until stop(). The events are
// read with fetch (not EventSource) so that a refused stream's reply (409, 503) is read.
const RETRIES = 4; // a stream of this session that just ended may hold its slot a moment: 409
const RETRY_MS = 250;
const STOPPED = "the training stream stopped; press Play to go on (or Reset)";

function parse(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

// One event's block of lines: {name, data} ("message" when it has no `event:` line).
function event(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { name, data: data.join("\n") };
}

export class Stream {
  // `on.snapshot(snapshot)` for each epoch; `on.said(status, message)` when a chunk ends
  // with words; `on.stopped(error)` when the stream stops by itself (error: {field, message}
  // when it failed, null when the session had nothing more to train).
  constructor(on) {
    this.on = on;
    this.controller = null;
    this.url = null;
  }

  get playing() {
    return this.url !== null;
  }

  // Trains `epochs` at a time at `path` (the session's), `interval` seconds apart.
  start(path, epochs, interval) {
    this.stop();
    this.url = `${path}/stream?epochs=${epochs}&interval=${interval}`;
    this.open(RETRIES);
  }

  stop() {
    this.url = null;
    if (this.controller) { this.controller.abort(); this.controller = null; }
  }

  async open(retries) {
    const controller = new AbortController();
    this.controller = controller;
    // What a stopped or replaced request reads is not this stream's any more.
    const current = () => this.controller === controller;
    try {
      const reply = await fetch(this.url, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (!reply.ok) {
        const said = await reply.json().catch(() => ({}));
        if (!current()) return;
        if (reply.status === 409 && retries > 0) {
          setTimeout(() => { if (current()) this.open(retries - 1); }, RETRY_MS);
          return;
        }
        this.finish({ field: said.field || null, message: said.error || STOPPED });
        return;
      }
      const ended = await this.read(reply.body.getReader(), current);
      if (current() && !ended) this.finish({ field: null, message: STOPPED });
    } catch (err) {
      if (current() && err.name !== "AbortError") this.finish({ field: null, message: STOPPED });
    }
  }

  // Hands on each event until the chunk ends: true when it ended as the server meant.
  async read(reader, current) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !current()) return false;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const { name, data } = event(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!current()) return false;
        if (name === "message") this.on.snapshot(JSON.parse(data));
        else if (name === "error") {
          const said = parse(data);
          this.finish({ field: said.field || null, message: said.error || STOPPED });
          return true;
        } else if (name === "end") {
          this.end(parse(data));
          return true;
        }
      }
    }
  }

  end(said) {
    if (said.message) this.on.said(said.status, said.message);
    // A chunk that trained nothing (diverged, or the session's most epochs) ends Play.
    if (said.epochs === 0) this.finish(null);
    else if (this.playing) this.open(RETRIES);
  }

  finish(error) {
    this.stop();
    this.on.stopped(error);
  }
}
