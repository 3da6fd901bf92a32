// Keeps one broken part of the page from blanking the rest: the part shows what failed and a way
// out, everything around it stays usable.
import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** What the part shows, for the message: "this task", "the task list". */
  area: string;
  /** A change of this value (another task opened, say) tries the part again. */
  resetKey?: unknown;
  children: ReactNode;
}

interface State {
  error?: Error;
  resetKey?: unknown;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = {};

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey === state.resetKey) return null;
    return { resetKey: props.resetKey, error: undefined };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The console is where a user's bug report comes from: the error with the component path to it.
    console.error(`taskmesh: ${this.props.area} failed to show`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="crash" role="alert">
        <p>
          <strong>Something went wrong showing {this.props.area}.</strong> The rest of the page still works.
        </p>
        <p className="muted">{error.message}</p>
        <div className="crash-actions">
          <button type="button" onClick={() => this.setState({ error: undefined })}>
            Try again
          </button>
          <button type="button" className="link" onClick={() => location.reload()}>
            Reload the page
          </button>
        </div>
      </div>
    );
  }
}
