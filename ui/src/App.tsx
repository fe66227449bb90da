// Routes and the providers every page needs.
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";
import { lazy, Suspense } from "react";
import type { ReactNode } from "react";
import { AuthProvider, useAuth } from "./auth/session";
import { CartProvider } from "./cart/CartProvider";
import { Loading } from "./components/common";
import { Layout } from "./components/Layout";
import { LiveProvider } from "./live/LiveProvider";
import { AdminPage } from "./pages/AdminPage";
import { LoginPage, RegisterPage } from "./pages/AuthPages";
import { CartPage } from "./pages/CartPage";
import { CatalogPage } from "./pages/CatalogPage";
import { OrderPage } from "./pages/OrderPage";
import { OrdersPage } from "./pages/OrdersPage";
import { ProductPage } from "./pages/ProductPage";

// uPlot (charts) loads with the operations page only: shoppers never fetch it.
const OperationsPage = lazy(() => import("./pages/OperationsPage").then((m) => ({ default: m.OperationsPage })));

/** Pages that need a login send visitors to /login and back afterwards. */
function RequireLogin({ children }: { children: ReactNode }) {
  const { session, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading what="your session" />;
  if (!session) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return children;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<CatalogPage />} />
        <Route path="products/:id" element={<ProductPage />} />
        <Route path="login" element={<LoginPage />} />
        <Route path="register" element={<RegisterPage />} />
        <Route path="cart" element={<RequireLogin><CartPage /></RequireLogin>} />
        <Route path="orders" element={<RequireLogin><OrdersPage /></RequireLogin>} />
        <Route path="orders/:id" element={<RequireLogin><OrderPage /></RequireLogin>} />
        <Route path="admin" element={<RequireLogin><AdminPage /></RequireLogin>} />
        <Route path="admin/operations" element={<RequireLogin><Suspense fallback={<Loading what="the operations page" />}><OperationsPage /></Suspense></RequireLogin>} />
        <Route path="*" element={<p role="alert">This page does not exist.</p>} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <LiveProvider>
          <CartProvider>
            <AppRoutes />
          </CartProvider>
        </LiveProvider>
      </AuthProvider>
    </BrowserRouter>
  );
}
