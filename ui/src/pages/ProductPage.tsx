// One product: description, price, live stock and add to cart.
import { Link, useParams } from "react-router";
import { api } from "../api/client";
import { ErrorMessage, Loading, StockBadge } from "../components/common";
import { AddToCart } from "../components/AddToCart";
import { formatMoney } from "../format";
import { useLoad } from "../hooks/useLoad";

export function ProductPage() {
  const id = Number(useParams().id);
  const product = useLoad(() => api.product(id), [id]);
  return (
    <section>
      <p>
        <Link to="/">← Back to the shop</Link>
      </p>
      <ErrorMessage error={product.error} />
      {product.loading && !product.value && <Loading what="the product" />}
      {product.value && (
        <article className="product">
          <h1>{product.value.name}</h1>
          <p className="category">{product.value.category}</p>
          <p className="price">{formatMoney(product.value.price)}</p>
          <p data-testid="stock">
            <StockBadge available={product.value.stockQuantity} />
          </p>
          <p>{product.value.description}</p>
          <AddToCart product={product.value} />
        </article>
      )}
    </section>
  );
}
