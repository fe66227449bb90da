// Admin: create, edit and delete products and set their stock.
import { useState } from "react";
import type { FormEvent } from "react";
import { api } from "../api/client";
import type { Product } from "../api/types";
import { useAuth } from "../auth/session";
import { ErrorMessage, Field, Loading, StockBadge } from "../components/common";
import { formatMoney } from "../format";
import { useAction } from "../hooks/useAction";
import { useLoad } from "../hooks/useLoad";

type Draft = { name: string; description: string; price: string; category: string; stock: string };
const emptyDraft: Draft = { name: "", description: "", price: "", category: "", stock: "0" };

function draftOf(p: Product): Draft {
  return { name: p.name, description: p.description, price: p.price.toFixed(2), category: p.category, stock: String(p.stockQuantity) };
}

/** Checks a draft; returns an error text or null. */
export function validateDraft(d: Draft): string | null {
  if (!d.name.trim()) return "Name must not be empty.";
  const price = Number(d.price);
  if (d.price.trim() === "" || !Number.isFinite(price) || price < 0) return "Price must be a number of 0 or more.";
  if (Math.round(price * 100) !== Number((price * 100).toFixed(6))) return "Price has at most two decimals.";
  const stock = Number(d.stock);
  if (!Number.isInteger(stock) || stock < 0) return "Stock must be a whole number of 0 or more.";
  return null;
}

function ProductForm({ initial, title, onSave, onCancel }: {
  initial: Draft;
  title: string;
  onSave(d: Draft): Promise<void>;
  onCancel?(): void;
}) {
  const [d, setD] = useState(initial);
  const { busy, error, setError, run } = useAction();
  const [saved, setSaved] = useState(false);
  const set = (k: keyof Draft) => (e: { target: { value: string } }) => setD({ ...d, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const problem = validateDraft(d);
    if (problem) return setError(new Error(problem));
    setSaved(await run(() => onSave(d)));
  };
  return (
    <form className="admin-form" onSubmit={submit} aria-label={title} noValidate>
      <h2>{title}</h2>
      <Field label="Name"><input value={d.name} onChange={set("name")} required /></Field>
      <Field label="Description"><textarea value={d.description} onChange={set("description")} rows={3} /></Field>
      <Field label="Price"><input type="number" min="0" step="0.01" value={d.price} onChange={set("price")} required /></Field>
      <Field label="Category"><input value={d.category} onChange={set("category")} /></Field>
      <Field label="Stock on hand" hint="Units held, including those reserved by orders in progress"><input type="number" min="0" step="1" value={d.stock} onChange={set("stock")} /></Field>
      <ErrorMessage error={error} />
      {saved && <p role="status" className="ok">Saved.</p>}
      <button type="submit" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
      {onCancel && <button type="button" className="secondary" onClick={onCancel}>Close</button>}
    </form>
  );
}

export function AdminPage() {
  const { withToken, isAdmin } = useAuth();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<Product | null>(null);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const list = useLoad((signal) => api.products({ search: query, page, pageSize: 20, sortBy: "id" }, signal), [query, page]);

  if (!isAdmin) return <p role="alert" className="error">This page is for admin accounts.</p>;

  const save = async (p: Product | null, d: Draft) => {
    const body = { name: d.name.trim(), description: d.description, price: Number(d.price), category: d.category.trim() };
    const stock = Number(d.stock);
    await withToken(async (t) => {
      const saved = p ? await api.updateProduct(t, { ...p, ...body }) : await api.createProduct(t, { ...body, stockQuantity: stock });
      if (p && stock !== p.stockQuantity) await api.setStock(t, saved.id, stock);
    });
    list.reload();
  };
  const remove = async (p: Product) => {
    if (!window.confirm(`Delete “${p.name}”?`)) return;
    setError(null);
    try {
      await withToken((t) => api.deleteProduct(t, p.id));
      if (editing?.id === p.id) setEditing(null);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const pages = list.value ? Math.max(1, Math.ceil(list.value.total / 20)) : 1;

  return (
    <section>
      <h1>Products</h1>
      <form role="search" className="filters" onSubmit={(e) => { e.preventDefault(); setPage(1); setQuery(search); }}>
        <Field label="Find product"><input type="search" value={search} onChange={(e) => setSearch(e.target.value)} /></Field>
        <button type="submit">Find</button>
        <button type="button" onClick={() => { setCreating(true); setEditing(null); }}>New product</button>
      </form>
      {creating && (
        <ProductForm key="new" title="New product" initial={emptyDraft}
          onSave={async (d) => { await save(null, d); setCreating(false); }} onCancel={() => setCreating(false)} />
      )}
      {editing && (
        <ProductForm key={editing.id} title={`Edit ${editing.name}`} initial={draftOf(editing)}
          onSave={(d) => save(editing, d)} onCancel={() => setEditing(null)} />
      )}
      <ErrorMessage error={error ?? list.error} />
      {list.loading && !list.value && <Loading what="products" />}
      {list.value && (
        <table className="admin">
          <thead>
            <tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Price</th><th scope="col">Stock</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
          </thead>
          <tbody>
            {list.value.items.map((p) => (
              <tr key={p.id}>
                <td data-label="Id">{p.id}</td>
                <td data-label="Name">{p.name}</td>
                <td data-label="Price">{formatMoney(p.price)}</td>
                <td data-label="Stock">{p.stockQuantity} <StockBadge available={p.stockQuantity} /></td>
                <td>
                  <button type="button" aria-label={`Edit ${p.name}`} onClick={() => { setEditing(p); setCreating(false); }}>Edit</button>
                  <button type="button" className="secondary" aria-label={`Delete ${p.name}`} onClick={() => void remove(p)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
        <span>Page {page} of {pages}</span>
        <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
      </nav>
    </section>
  );
}
