import type { Channel } from "../../model/common.js";
import type { FeedbackDocument } from "../../model/feedback.js";
import type { Repositories } from "../../repositories/index.js";

/** Unique (messages) and total (events) counts of one kind of engagement. */
export interface Tally {
  /** Messages with at least one such event. */
  unique: number;
  /** Distinct events, repeats included (a message opened three times counts 3). */
  total: number;
}

/**
 * What happened after the send, for a campaign, an execution, an action or a treatment: the figures of the
 * reference email report, counts and rates.
 *
 * Precedence, whatever order events came in: a hard bounce makes a message bounced even if the provider
 * also said delivered; any sign of life (delivered, opened, clicked, complained, unsubscribed) makes it
 * delivered otherwise; a soft bounce counts only for a message with neither.
 */
export interface Engagement {
  /** Messages accepted by the provider (the ledger's `sent`). */
  sent: number;
  /** Messages the provider delivered, by the precedence above. */
  delivered: number;
  /** Bounced messages: hard, soft (not later delivered) and both. */
  bounces: { total: number; hard: number; soft: number };
  /** Opens. */
  opens: Tally;
  /** Clicks. */
  clicks: Tally;
  /** Messages whose recipient unsubscribed from them. */
  unsubscribes: number;
  /** Messages reported as spam. */
  complaints: number;
  /** Custom events (`custom:<name>`), by name. */
  custom: Record<string, Tally>;
  /**
   * Ratios between 0 and 1 (0 when the denominator is 0): `delivery` and `bounce` over sent; `open`,
   * `click`, `unsubscribe` and `complaint` over delivered (unique counts); `clickToOpen` unique clicks over
   * unique opens.
   */
  rates: {
    delivery: number;
    bounce: number;
    open: number;
    click: number;
    clickToOpen: number;
    unsubscribe: number;
    complaint: number;
  };
}

/** One hour of a report over time: what was sent, and feedback events by the hour they first happened. */
export interface HourlyBucket {
  /** The hour's start, as an ISO instant (UTC). */
  hour: string;
  sent: number;
  delivered: number;
  bounces: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
  complaints: number;
}

/** Counters an {@link Engagement} is computed from. */
class Counter {
  sent = 0;
  delivered = 0;
  hard = 0;
  soft = 0;
  opens: Tally = { unique: 0, total: 0 };
  clicks: Tally = { unique: 0, total: 0 };
  unsubscribes = 0;
  complaints = 0;
  custom: Record<string, Tally> = {};

  toEngagement(): Engagement {
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    const bounces = this.hard + this.soft;
    return {
      sent: this.sent,
      delivered: this.delivered,
      bounces: { total: bounces, hard: this.hard, soft: this.soft },
      opens: this.opens,
      clicks: this.clicks,
      unsubscribes: this.unsubscribes,
      complaints: this.complaints,
      custom: this.custom,
      rates: {
        delivery: ratio(this.delivered, this.sent),
        bounce: ratio(bounces, this.sent),
        open: ratio(this.opens.unique, this.delivered),
        click: ratio(this.clicks.unique, this.delivered),
        clickToOpen: ratio(this.clicks.unique, this.opens.unique),
        unsubscribe: ratio(this.unsubscribes, this.delivered),
        complaint: ratio(this.complaints, this.delivered),
      },
    };
  }
}

/** What one message's documents say, folded. */
interface MessageState {
  executionId: string;
  channel: Channel;
  treatmentId: string | undefined;
  hard: boolean;
  soft: boolean;
  alive: boolean;
}

/** The figures a report groups: the whole, by execution, by action (channel) and by treatment. */
export interface EngagementBreakdown {
  total: Engagement;
  byExecution: Record<string, Engagement>;
  byAction: Partial<Record<Channel, Engagement>>;
  byTreatment: Record<string, Engagement>;
  hourly: HourlyBucket[];
}

/** The ledger's sent counts, for the denominators. */
export interface SentCounts {
  total: number;
  byExecution: Record<string, number>;
  byAction: Partial<Record<Channel, number>>;
  byTreatment: Record<string, number>;
  byHour: Record<string, number>;
}

const hourOf = (at: Date) => new Date(at.getTime() - (at.getTime() % 3_600_000)).toISOString();

/**
 * Reads a campaign's (or execution's) feedback documents page by page and folds them into the report's
 * figures. Memory grows with the messages that have feedback (a few bytes of state each), not with events.
 */
export async function engagementOf(
  repos: Pick<Repositories, "feedback">,
  where: { campaignId: string; executionId?: string },
  sent: SentCounts,
): Promise<EngagementBreakdown> {
  const total = new Counter();
  const byExecution = new Map<string, Counter>();
  const byAction = new Map<Channel, Counter>();
  const byTreatment = new Map<string, Counter>();
  const hours = new Map<string, HourlyBucket>();
  const messages = new Map<string, MessageState>();
  const counter = <K>(map: Map<K, Counter>, key: K) => {
    let c = map.get(key);
    if (c === undefined) {
      c = new Counter();
      map.set(key, c);
    }
    return c;
  };
  const bucket = (hour: string) => {
    let b = hours.get(hour);
    if (b === undefined) {
      b = { hour, sent: 0, delivered: 0, bounces: 0, opens: 0, clicks: 0, unsubscribes: 0, complaints: 0 };
      hours.set(hour, b);
    }
    return b;
  };
  const countersOf = (doc: Pick<FeedbackDocument, "executionId" | "channel" | "treatmentId">) => [
    total,
    counter(byExecution, doc.executionId),
    counter(byAction, doc.channel),
    ...(doc.treatmentId === undefined ? [] : [counter(byTreatment, doc.treatmentId)]),
  ];

  for await (const doc of repos.feedback.all(where)) {
    const state = messages.get(doc.messageId) ?? {
      executionId: doc.executionId,
      channel: doc.channel,
      treatmentId: doc.treatmentId,
      hard: false,
      soft: false,
      alive: false,
    };
    messages.set(doc.messageId, state);
    const hour = bucket(hourOf(doc.firstAt));
    const tally = (pick: (c: Counter) => Tally) => {
      for (const c of countersOf(doc)) {
        const t = pick(c);
        t.unique++;
        t.total += doc.count;
      }
    };
    switch (doc.type) {
      case "bounced":
        if (doc.bounce === "hard") state.hard = true;
        else state.soft = true;
        hour.bounces++;
        break;
      case "delivered":
        state.alive = true;
        hour.delivered++;
        break;
      case "opened":
        state.alive = true;
        tally((c) => c.opens);
        hour.opens++;
        break;
      case "clicked":
        state.alive = true;
        tally((c) => c.clicks);
        hour.clicks++;
        break;
      case "complained":
        state.alive = true;
        for (const c of countersOf(doc)) c.complaints++;
        hour.complaints++;
        break;
      case "unsubscribed":
        state.alive = true;
        for (const c of countersOf(doc)) c.unsubscribes++;
        hour.unsubscribes++;
        break;
      default: {
        const name = doc.type.slice("custom:".length);
        tally((c) => {
          c.custom[name] ??= { unique: 0, total: 0 };
          return c.custom[name];
        });
      }
    }
  }
  for (const state of messages.values()) {
    for (const c of countersOf(state)) {
      if (state.hard) c.hard++;
      else if (state.alive) c.delivered++;
      else if (state.soft) c.soft++;
    }
  }
  total.sent = sent.total;
  for (const [id, n] of Object.entries(sent.byExecution)) counter(byExecution, id).sent = n;
  for (const [channel, n] of Object.entries(sent.byAction))
    counter(byAction, channel as Channel).sent = n ?? 0;
  for (const [id, n] of Object.entries(sent.byTreatment)) counter(byTreatment, id).sent = n;
  for (const [hour, n] of Object.entries(sent.byHour)) bucket(hour).sent = n;

  const engagements = <K extends string>(map: Map<K, Counter>) =>
    Object.fromEntries([...map].map(([key, c]) => [key, c.toEngagement()])) as Record<K, Engagement>;
  return {
    total: total.toEngagement(),
    byExecution: engagements(byExecution),
    byAction: engagements(byAction),
    byTreatment: engagements(byTreatment),
    hourly: [...hours.values()].sort((a, b) => (a.hour < b.hour ? -1 : 1)),
  };
}
