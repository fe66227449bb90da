// Live order updates from GET /ws. Keeps the last sequence number it saw;
// after a dropped connection it reconnects with backoff and sends
// {"resume": lastSeq}, so the server replays every event that was missed.
// When the server no longer has them (retention deleted old events) it
// answers {"type":"reset","seq":n}: reset listeners reload what they show,
// and events after n follow.
import type { OrderEvent } from "../api/types";

export type FeedState = "offline" | "connecting" | "live" | "reconnecting";

export interface SocketLike {
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface FeedOptions {
  /** Builds the socket URL for a token. */
  url(token: string): string;
  /** The current access token, or null when logged out. */
  token(): string | null;
  open?(url: string): SocketLike;
  schedule?(fn: () => void, ms: number): unknown;
  cancel?(handle: unknown): void;
}

export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
}

export function socketUrl(location: { protocol: string; host: string }, token: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws?access_token=${encodeURIComponent(token)}`;
}

export class OrderFeed {
  private socket: SocketLike | null = null;
  private lastSeq = 0;
  private attempt = 0;
  private timer: unknown = null;
  private stopped = true;
  private readonly eventListeners = new Set<(e: OrderEvent) => void>();
  private readonly stateListeners = new Set<(s: FeedState) => void>();
  private readonly resetListeners = new Set<() => void>();
  state: FeedState = "offline";

  constructor(private readonly opts: FeedOptions) {}

  onEvent(fn: (e: OrderEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Called when missed events are gone: whoever shows orders reloads them. */
  onReset(fn: () => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  onState(fn: (s: FeedState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.opts.cancel ?? clearTimeout)(this.timer as never);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    s?.close();
    this.setState("offline");
  }

  private setState(s: FeedState) {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private connect() {
    const token = this.opts.token();
    if (!token) return this.setState("offline");
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const open = this.opts.open ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const socket = open(this.opts.url(token));
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      if (this.lastSeq > 0) socket.send(JSON.stringify({ resume: this.lastSeq }));
      this.setState("live");
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.handle(String(ev.data));
    };
    socket.onerror = () => undefined; // onclose follows and reconnects
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.setState("reconnecting");
      const delay = backoffMs(this.attempt++);
      this.timer = (this.opts.schedule ?? setTimeout)(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, delay);
    };
  }

  private handle(data: string) {
    let msg: Partial<OrderEvent> | { type: "reset"; seq?: unknown };
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg?.type === "reset") {
      if (typeof msg.seq !== "number") return;
      this.lastSeq = Math.max(this.lastSeq, msg.seq);
      for (const fn of this.resetListeners) fn();
      return;
    }
    if (msg?.type !== "order.status" || typeof msg.seq !== "number") return;
    if (msg.seq <= this.lastSeq) return; // already seen (a resume may overlap)
    this.lastSeq = msg.seq;
    for (const fn of this.eventListeners) fn(msg as OrderEvent);
  }
}
