import { Link } from '@tanstack/react-router';

export function NotFoundPage() {
  return (
    <div className="page">
      <div className="empty">
        <h3>This page does not exist</h3>
        <p className="empty-text">The address may be mistyped or from an older version of the dashboard.</p>
        <Link to="/" className="btn btn-primary">
          Go to the overview
        </Link>
      </div>
    </div>
  );
}
