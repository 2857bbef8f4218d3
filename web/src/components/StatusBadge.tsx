import type { Status } from "../lib/api";

const words: Record<Status, string> = {
  requested: "Requested",
  provisioning: "Provisioning",
  ready: "Ready",
  failed: "Failed",
};

export const inFlight = (s: Status) => s === "requested" || s === "provisioning";

export function StatusBadge({ status }: { status: Status }) {
  return (
    <span className={`status status-${status}`}>
      {inFlight(status) && <span className="spinner" aria-hidden="true" />}
      {words[status] ?? status}
    </span>
  );
}
