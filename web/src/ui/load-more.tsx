/** Below a list that has another page: the button that loads it. */
export function LoadMore({ hasMore, onMore }: { hasMore: boolean; onMore(): void }) {
  return hasMore ? (
    <button type="button" className="more" onClick={onMore}>
      Load more
    </button>
  ) : null;
}
