import { ApiError } from "./api";

// when shows an API timestamp in the reader's locale and time zone.
export function when(iso: string) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function errorText(err: unknown) {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}
