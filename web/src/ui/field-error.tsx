/** Under a field or a form: what went wrong, announced to assistive technology as it appears. */
export function FieldError({ problem }: { problem: string | undefined }) {
  return problem ? (
    <p className="field-error" role="alert">
      {problem}
    </p>
  ) : null;
}
