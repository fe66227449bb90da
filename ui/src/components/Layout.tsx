// The page frame: skip link, header with navigation and cart count, main.
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { useAuth } from "../auth/session";
import { useCart } from "../cart/CartProvider";
import { useLive } from "../live/LiveProvider";

const liveText = { offline: "", connecting: "Connecting live updates…", live: "Live updates on", reconnecting: "Reconnecting live updates…" };

export function Layout() {
  const { session, isAdmin, logout } = useAuth();
  const { count } = useCart();
  const live = useLive();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Emporium
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Shop
          </NavLink>
          {session && <NavLink to="/cart">Cart ({count})</NavLink>}
          {session && <NavLink to="/orders">Orders</NavLink>}
          {isAdmin && <NavLink to="/admin" end>Admin</NavLink>}
          {isAdmin && <NavLink to="/admin/operations">Operations</NavLink>}
          {session ? (
            <button
              type="button"
              className="link"
              onClick={() => void logout().then(() => navigate("/"))}
            >
              Log out <span className="who">{session.email}</span>
            </button>
          ) : (
            <>
              <NavLink to="/login">Log in</NavLink>
              <NavLink to="/register">Register</NavLink>
            </>
          )}
        </nav>
        <span className={`live live-${live.state}`} role="status" aria-live="polite">
          {liveText[live.state]}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
