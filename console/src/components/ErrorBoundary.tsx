import { Component, type ComponentChildren } from "preact";
import { describe } from "../api.ts";

interface State {
  error: unknown;
}

/** Whatever fails while a page renders shows as a message with a way out, not a blank screen. */
export class ErrorBoundary extends Component<{ children: ComponentChildren; resetKey: string }, State> {
  override state: State = { error: undefined };

  static override getDerivedStateFromError(error: unknown): State {
    return { error: error ?? new Error("unknown error") };
  }

  override componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.error !== undefined) {
      this.setState({ error: undefined });
    }
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <div class="alert error" role="alert">
        <p class="alert-title">This page failed to show.</p>
        <p>{describe(this.state.error)}</p>
        <p>
          <button type="button" onClick={() => window.location.reload()}>
            Reload the console
          </button>
        </p>
      </div>
    );
  }
}
