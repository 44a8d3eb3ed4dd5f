// The model lab's server session, one at a time: POST /api/models makes it, calls go to
// /api/models/{id}/..., DELETE ends it. A reply that comes back after its session was
// replaced, or after a new generation began (a Reset), is stale and dropped, so a slow
// answer never lands in the wrong view.
import { api } from "./common.js";

export const sessionPath = (id) => `/api/models/${encodeURIComponent(id)}`;

function drop(id) {
  return api(sessionPath(id), undefined, { method: "DELETE" }).catch(() => null);
}

export class Session {
  constructor() {
    this.current = null; // the reply of POST /api/models; null while none is ready
    this.generation = 0;
    this.calls = new Set(); // the requests on their way to the current session
    this.dropping = null;
  }

  path() {
    return sessionPath(this.current.id);
  }

  // From now on the replies to requests sent before are stale.
  renew() {
    this.generation += 1;
  }

  // Stops using the current session; it is ended on the server once the calls still on
  // their way to it are answered.
  retire() {
    this.renew();
    const old = this.current;
    this.current = null;
    if (old) this.dropping = Promise.allSettled([...this.calls]).then(() => drop(old.id));
  }

  // A new session made from `body`: its reply, or null when a later change made it stale.
  // Throws the server's error (ApiError) otherwise.
  async create(body) {
    this.retire();
    const generation = this.generation;
    await this.dropping; // (the old session is gone before the new one counts against the cap)
    if (generation !== this.generation) return null;
    let reply;
    try {
      reply = await api("/api/models", body);
    } catch (err) {
      if (generation === this.generation) throw err;
      return null;
    }
    if (generation !== this.generation) { drop(reply.id); return null; }
    this.current = reply;
    return reply;
  }

  // `api` on the session's `suffix`: the reply, or null when there is no session or the
  // reply is stale; throws the server's error (unless stale).
  async call(suffix, body) {
    const session = this.current;
    if (!session) return null;
    const generation = this.generation;
    const fresh = () => this.current === session && this.generation === generation;
    const request = api(`${sessionPath(session.id)}${suffix}`, body);
    this.calls.add(request);
    try {
      const reply = await request;
      return fresh() ? reply : null;
    } catch (err) {
      if (fresh()) throw err;
      return null;
    } finally {
      this.calls.delete(request);
    }
  }

  // The page is going away: end the session without waiting for the answer.
  close() {
    if (this.current) fetch(this.path(), { method: "DELETE", keepalive: true }).catch(() => null);
  }
}
