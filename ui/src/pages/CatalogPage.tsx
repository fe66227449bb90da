// Browse: search, category, price range, sorting and paging, all kept in the
// URL so a filtered page can be bookmarked and the back button works.
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { ProductQuery } from "../api/types";
import { ErrorMessage, Field, Loading, StockBadge } from "../components/common";
import { AddToCart } from "../components/AddToCart";
import { formatMoney } from "../format";
import { useLoad } from "../hooks/useLoad";

const pageSize = 12;
const sorts = {
  "": { label: "Featured" },
  "name-asc": { label: "Name A–Z", sortBy: "name", sortOrder: "asc" },
  "price-asc": { label: "Price: low to high", sortBy: "price", sortOrder: "asc" },
  "price-desc": { label: "Price: high to low", sortBy: "price", sortOrder: "desc" },
  "stockQuantity-desc": { label: "Most in stock", sortBy: "stockQuantity", sortOrder: "desc" },
} as const;
type SortKey = keyof typeof sorts;

export function queryFromParams(params: URLSearchParams): ProductQuery {
  const sort = sorts[(params.get("sort") ?? "") as SortKey] ?? sorts[""];
  return {
    search: params.get("search") ?? undefined,
    category: params.get("category") ?? undefined,
    minPrice: params.get("minPrice") ?? undefined,
    maxPrice: params.get("maxPrice") ?? undefined,
    sortBy: "sortBy" in sort ? sort.sortBy : undefined,
    sortOrder: "sortOrder" in sort ? sort.sortOrder : undefined,
    page: Math.max(1, Number(params.get("page") ?? 1) || 1),
    pageSize,
  };
}

export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const query = queryFromParams(params);
  const key = params.toString();
  const products = useLoad((signal) => api.products(query, signal), [key]);
  const categories = useLoad(() => api.categories(), []);
  const [draft, setDraft] = useState({
    search: params.get("search") ?? "",
    minPrice: params.get("minPrice") ?? "",
    maxPrice: params.get("maxPrice") ?? "",
  });

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v ? next.set(k, v) : next.delete(k));
    if (!("page" in changes)) next.delete("page");
    setParams(next);
  };
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    update(draft);
  };

  const page = query.page ?? 1;
  const pages = products.value ? Math.max(1, Math.ceil(products.value.total / pageSize)) : 1;

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Shop</h1>
      <form className="filters" role="search" onSubmit={onSearch}>
        <Field label="Search">
          <input type="search" value={draft.search} onChange={(e) => setDraft({ ...draft, search: e.target.value })} />
        </Field>
        <Field label="Category">
          <select value={params.get("category") ?? ""} onChange={(e) => update({ category: e.target.value })}>
            <option value="">All categories</option>
            {categories.value?.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </Field>
        <Field label="Min price">
          <input type="number" min="0" step="0.01" inputMode="decimal" value={draft.minPrice}
            onChange={(e) => setDraft({ ...draft, minPrice: e.target.value })} />
        </Field>
        <Field label="Max price">
          <input type="number" min="0" step="0.01" inputMode="decimal" value={draft.maxPrice}
            onChange={(e) => setDraft({ ...draft, maxPrice: e.target.value })} />
        </Field>
        <Field label="Sort by">
          <select value={params.get("sort") ?? ""} onChange={(e) => update({ sort: e.target.value })}>
            {Object.entries(sorts).map(([k, s]) => (
              <option key={k} value={k}>
                {s.label}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Search</button>
      </form>

      <ErrorMessage error={products.error} />
      {products.loading && <Loading what="products" />}
      {products.value && (
        <>
          <p className="count" aria-live="polite">
            {products.value.total} product{products.value.total === 1 ? "" : "s"}
          </p>
          <ul className="grid">
            {products.value.items.map((p) => (
              <li key={p.id} className="card">
                <h2>
                  <Link to={`/products/${p.id}`}>{p.name}</Link>
                </h2>
                <p className="category">{p.category}</p>
                <p className="price">{formatMoney(p.price)}</p>
                <StockBadge available={p.stockQuantity} />
                <AddToCart product={p} compact />
              </li>
            ))}
          </ul>
          {products.value.items.length === 0 && <p>No products match these filters.</p>}
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={page <= 1} onClick={() => update({ page: String(page - 1) })}>
              Previous
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => update({ page: String(page + 1) })}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
