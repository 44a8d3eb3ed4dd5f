// Play in the model lab: the session trains a chunk of epochs at a time over server-sent
// events (GET /api/models/{id}/stream), each epoch's snapshot as it comes. One EventSource
// per chunk; the next opens when the server says the chunk ended, until stop().
function parse(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
}

export class Stream {
  // `on.snapshot(snapshot)` for each epoch; `on.said(status, message)` when a chunk ends
  // with words; `on.stopped(error)` when the stream stops by itself (error: {field, message}
  // when it failed, null when the session had nothing more to train).
  constructor(on) {
    this.on = on;
    this.source = null;
    this.url = null;
  }

  get playing() {
    return this.url !== null;
  }

  // Trains `epochs` at a time at `path` (the session's), `interval` seconds apart.
  start(path, epochs, interval) {
    this.stop();
    this.url = `${path}/stream?epochs=${epochs}&interval=${interval}`;
    this.open();
  }

  stop() {
    this.url = null;
    if (this.source) { this.source.close(); this.source = null; }
  }

  open() {
    const source = new EventSource(this.url);
    this.source = source;
    // Events of a source that was closed or replaced are not this stream's any more.
    const current = () => this.source === source;
    source.addEventListener("message", (event) => {
      if (current()) this.on.snapshot(JSON.parse(event.data));
    });
    source.addEventListener("end", (event) => {
      source.close();
      if (!current()) return;
      this.source = null;
      const end = parse(event.data);
      if (end.message) this.on.said(end.status, end.message);
      // A chunk that trained nothing (diverged, or the session's most epochs) ends Play.
      if (end.epochs === 0) this.finish(null);
      else if (this.playing) this.open();
    });
    // Both a failed connection (a refused stream too: the browser does not show its reply)
    // and the server's own `event: error`, which carries a message.
    source.addEventListener("error", (event) => {
      source.close();
      if (!current()) return;
      const said = parse(event.data);
      this.finish({ field: said.field || null,
        message: said.error || "the training stream stopped; press Play to go on (or Reset)" });
    });
  }

  finish(error) {
    this.stop();
    this.on.stopped(error);
  }
}
