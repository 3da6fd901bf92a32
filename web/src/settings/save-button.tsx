/** A settings form's submit button, and "Saved" once what it sent was taken. */
export function SaveButton({ saved }: { saved: boolean }) {
  return (
    <>
      <button type="submit" className="primary">
        Save
      </button>
      {saved && (
        <span className="hint" role="status">
          Saved
        </span>
      )}
    </>
  );
}
