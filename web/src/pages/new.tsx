import { useRouter } from "next/router";
import { useRef, useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { Layout } from "../components/Layout";
import { ApiError, specFields, type SpecField } from "../lib/api";
import { errorText } from "../lib/format";
import { useClient, useSignedIn } from "../lib/hooks";
import { check, defaultTemperature, length, limits, splitTools, type FormValues } from "../lib/rules";

const labels: Record<SpecField, string> = {
  name: "Name",
  description: "Description",
  instructions: "Instructions",
  model: "Model",
  temperature: "Temperature",
  tools: "Tools",
};

const empty: FormValues = { name: "", description: "", instructions: "", model: "", temperature: "", tools: "" };

// newKey makes an Idempotency-Key: 128 random bits in hex.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The form of POST /personas. A submission keeps its Idempotency-Key for as
// long as the body stays the same, so sending it again after a lost answer or a
// 503 cannot create a second persona; a changed body gets a new key.
export default function NewPersona() {
  const signedIn = useSignedIn();
  const api = useClient();
  const router = useRouter();
  const [values, setValues] = useState<FormValues>(empty);
  const [errors, setErrors] = useState<Partial<Record<SpecField, string>>>({});
  const [formError, setFormError] = useState("");
  const [busy, setBusy] = useState(false);
  const attempt = useRef<{ body: string; key: string } | null>(null);
  const form = useRef<HTMLFormElement>(null);

  const set = (field: keyof FormValues) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
  };

  const focusFirstError = (errs: Partial<Record<SpecField, string>>) => {
    const first = specFields.find((f) => errs[f]);
    if (first) form.current?.querySelector<HTMLElement>(`#${first}`)?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    setFormError("");
    const { errors: problems, spec } = check(values);
    setErrors(problems);
    if (!spec) {
      focusFirstError(problems);
      return;
    }
    const body = JSON.stringify(spec);
    if (attempt.current?.body !== body) attempt.current = { body, key: newKey() };
    setBusy(true);
    try {
      const persona = await api.request(spec, attempt.current.key);
      attempt.current = null;
      await router.push(`/persona?id=${persona.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.field) {
        const next = { [err.field]: `${labels[err.field]}: ${err.message}` };
        setErrors(next);
        focusFirstError(next);
      } else if (err instanceof ApiError && err.code === "idempotency_key_reused") {
        attempt.current = null;
        setFormError("This submission was already used for a different persona. Submit again to send it as a new request.");
      } else if (err instanceof ApiError && err.code === "task_not_queued") {
        setFormError("Your persona was saved but its provisioning could not be queued. Submit again: the same request is retried, not duplicated.");
      } else {
        setFormError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  if (!signedIn) return <Layout title="Request a persona">{null}</Layout>;
  const count = (field: "name" | "description" | "instructions") => `${length(values[field])} of ${limits[field]} characters.`;
  const toolCount = splitTools(values.tools).length;

  return (
    <Layout title="Request a persona">
      <form ref={form} onSubmit={submit} noValidate aria-describedby={formError ? "form-error" : undefined}>
        {formError && (
          <p className="form-error" role="alert" id="form-error">
            {formError}
          </p>
        )}
        <Field id="name" label={labels.name} hint={count("name")} error={errors.name}>
          {(p) => <input {...p} type="text" required autoComplete="off" value={values.name} onChange={set("name")} />}
        </Field>
        <Field id="description" label={labels.description} optional hint={`What the persona is for. ${count("description")}`} error={errors.description}>
          {(p) => <textarea {...p} rows={2} value={values.description} onChange={set("description")} />}
        </Field>
        <Field
          id="instructions"
          label={labels.instructions}
          hint={`The persona's standing instructions (its system prompt). ${count("instructions")}`}
          error={errors.instructions}
        >
          {(p) => <textarea {...p} rows={8} required value={values.instructions} onChange={set("instructions")} />}
        </Field>
        <Field id="model" label={labels.model} optional hint="Letters, digits and . _ : / -; empty means the runtime's default." error={errors.model}>
          {(p) => <input {...p} type="text" autoComplete="off" spellCheck={false} value={values.model} onChange={set("model")} />}
        </Field>
        <Field id="temperature" label={labels.temperature} optional hint={`0 to ${limits.temperature}; empty means ${defaultTemperature}.`} error={errors.temperature}>
          {(p) => (
            <input {...p} type="text" inputMode="decimal" autoComplete="off" value={values.temperature} onChange={set("temperature")} />
          )}
        </Field>
        <Field
          id="tools"
          label={labels.tools}
          optional
          hint={`Up to ${limits.tools} names of lowercase letters, digits and _, separated by commas or spaces (${toolCount} now).`}
          error={errors.tools}
        >
          {(p) => <input {...p} type="text" autoComplete="off" spellCheck={false} value={values.tools} onChange={set("tools")} />}
        </Field>
        <button type="submit" aria-disabled={busy}>
          {busy ? "Requesting…" : "Request persona"}
        </button>
      </form>
    </Layout>
  );
}
