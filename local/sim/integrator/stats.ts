interface Counter {
  requests: number;
  rateLimited: number;
}

export interface StatsSnapshot extends Counter {
  byRoute: Record<string, Counter>;
}

/** Request counts of the `/v1` API, in total and per `METHOD /path/:template`. */
export class Stats {
  private total: Counter = { requests: 0, rateLimited: 0 };
  private byRoute = new Map<string, Counter>();

  request(route: string): void {
    this.total.requests += 1;
    this.counter(route).requests += 1;
  }

  rateLimited(route: string): void {
    this.total.rateLimited += 1;
    this.counter(route).rateLimited += 1;
  }

  snapshot(): StatsSnapshot {
    return {
      ...this.total,
      byRoute: Object.fromEntries([...this.byRoute].map(([route, c]) => [route, { ...c }])),
    };
  }

  reset(): void {
    this.total = { requests: 0, rateLimited: 0 };
    this.byRoute.clear();
  }

  private counter(route: string): Counter {
    let counter = this.byRoute.get(route);
    if (!counter) {
      counter = { requests: 0, rateLimited: 0 };
      this.byRoute.set(route, counter);
    }
    return counter;
  }
}
