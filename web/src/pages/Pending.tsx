/** A page whose data has not arrived: "Loading…", or why it cannot be shown. */
export function Pending({ title, error }: { title: string; error: string | null | undefined }) {
  return (
    <main className="page">
      <h1>{title}</h1>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : (
        <p>Loading…</p>
      )}
    </main>
  );
}
