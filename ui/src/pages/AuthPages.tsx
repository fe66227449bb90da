// Log in and register.
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api } from "../api/client";
import { useAuth } from "../auth/session";
import { ErrorMessage, Field } from "../components/common";
import { useAction } from "../hooks/useAction";

export function LoginPage() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      await login(email, password);
      navigate((location.state as { from?: string } | null)?.from ?? "/");
    });
  };
  return (
    <section className="narrow">
      <h1>Log in</h1>
      {notice && <p role="status" className="ok">{notice}</p>}
      <form onSubmit={submit}>
        <Field label="Email">
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label="Password">
          <input type="password" autoComplete="current-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        New here? <Link to="/register">Create an account</Link>
      </p>
    </section>
  );
}

export function RegisterPage() {
  const navigate = useNavigate();
  const [form, setForm] = useState({ email: "", password: "", confirmPassword: "", firstName: "", lastName: "" });
  const { busy, error, setError, run } = useAction();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (form.password !== form.confirmPassword) {
      setError(new Error("The two passwords do not match."));
      return;
    }
    await run(async () => {
      await api.register(form);
      navigate("/login", { state: { notice: "Your account is ready. Please log in." } });
    });
  };
  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={submit}>
        <Field label="Email">
          <input type="email" autoComplete="email" required value={form.email} onChange={set("email")} />
        </Field>
        <Field label="First name">
          <input autoComplete="given-name" value={form.firstName} onChange={set("firstName")} />
        </Field>
        <Field label="Last name">
          <input autoComplete="family-name" value={form.lastName} onChange={set("lastName")} />
        </Field>
        <Field label="Password" hint="At least 8 characters, not a common word or pattern">
          <input type="password" autoComplete="new-password" required minLength={8} value={form.password}
            onChange={set("password")} />
        </Field>
        <Field label="Confirm password">
          <input type="password" autoComplete="new-password" required value={form.confirmPassword}
            onChange={set("confirmPassword")} />
        </Field>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
    </section>
  );
}
